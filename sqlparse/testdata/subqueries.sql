-- dialect: postgres
select c.id,
       (select max(o.amount) from orders o where o.customer_id = c.id) as max_order,
       x.total
from customers c
join (select customer_id, sum(amount) as total from (select * from payments where amount > 0) p group by customer_id) x
  on x.customer_id = c.id
where exists (select 1 from blocked b where b.customer_id = c.id)
