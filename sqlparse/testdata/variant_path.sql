-- dialect: snowflake
select payload:customer.address.city::string as city,
       payload:"Order Id"::number as order_id,
       meta :name :: STRING as meta_name
from raw.shop.events
