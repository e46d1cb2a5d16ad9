-- dialect: snowflake
select e.event_id, f.value:sku::string as sku, f.index as line_no
from raw.shop.events e, lateral flatten(input => e.payload:items) f
where e.event_type = 'purchase'
