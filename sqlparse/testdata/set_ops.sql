-- dialect: snowflake
select id, amount from raw.a.loans_eu
union all
select loan_id, principal * rate from raw.a.loans_us
minus
select id, amount from raw.a.loans_bad
