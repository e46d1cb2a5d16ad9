-- dialect: snowflake
create table dev.loans.loans clone prod.loans.loans;
create or replace table dev.loans.l2 clone prod.loans.loans at (timestamp => '2024-01-01'::timestamp)
