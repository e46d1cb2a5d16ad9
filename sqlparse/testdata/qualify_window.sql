-- dialect: snowflake
select customer_id, order_id, sum(amount) over (partition by customer_id order by order_ts) as running
from analytics.core.orders
qualify row_number() over (partition by customer_id order by order_ts desc) = 1
