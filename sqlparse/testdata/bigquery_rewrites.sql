-- dialect: bigquery
with current_schema as (
    select full_table_name, detected_at from `proj.ds.schema_snapshot`
)
select
    trim(split(full_table_name, '.')[OFFSET(0)], '"') as database_name,
    timestamp_add(detected_at, INTERVAL cast(-7 as INT64) day) as week_ago,
    timestamp_add(detected_at, INTERVAL -7 day) as week_ago_literal,
    json_extract_array(full_table_name) [SAFE_OFFSET(1)] as second_part
from current_schema
