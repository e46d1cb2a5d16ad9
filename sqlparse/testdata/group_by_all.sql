-- dialect: databricks
select region, seller_id, sum(amount) as total from sales.orders group by all
