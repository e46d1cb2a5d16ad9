-- dialect: snowflake
select case when status = 'late' then fee else 0 end as fee, iff(amount > 100, 'big', 'small') as bucket from raw.s.payments
