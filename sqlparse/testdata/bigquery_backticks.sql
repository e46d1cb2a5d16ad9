-- dialect: bigquery
select id, safe_cast(amount as int64) as amt from `my-project.sales.orders`
