-- dialect: snowflake
select * from raw.s.monthly_sales pivot (sum(amount) for month in ('JAN', 'FEB')) as p
