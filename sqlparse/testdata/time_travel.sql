-- dialect: snowflake
select loan_id from raw.loans.loans at (timestamp => '2024-01-01'::timestamp);
select loan_id from raw.loans.loans before (statement => '01b2-xyz')
