-- dialect: snowflake
-- default: ANALYTICS.PUBLIC
select o.id, o.amount * 2 as doubled, upper(c.name) as name
from orders o join customers c on o.customer_id = c.id
where o.status = 'paid'
order by o.id
