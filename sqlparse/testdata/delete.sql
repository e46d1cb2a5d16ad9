-- dialect: snowflake
delete from marts.loans using raw.loans.closed c where marts.loans.loan_id = c.loan_id;
delete from marts.loans where loan_id in (select loan_id from raw.loans.writeoffs)
