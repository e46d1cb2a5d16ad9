-- dialect: snowflake
select dateadd(day, 7, created_at) as due, datediff('month', start_at, end_at) as months, date_trunc(month, created_at) as m from raw.s.loans
