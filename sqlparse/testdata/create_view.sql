-- dialect: snowflake
create or replace secure view marts.v_loans copy grants (id comment 'loan id', amt) as
select loan_id, principal from raw.loans.loans;
create view marts.v2 as select loan_id from raw.loans.loans;
create or replace materialized view marts.mv as select loan_id, sum(amount) as paid from raw.loans.payments group by loan_id
