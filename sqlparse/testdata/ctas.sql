-- dialect: snowflake
create or replace transient table db.s.loans_clean as
select loan_id, principal from raw.loans.loans;
create temporary table tmp_x (a, b) as select loan_id, principal from raw.loans.loans;
create table if not exists db.s.typed (id number comment 'k', amt number) cluster by (id) as select loan_id, principal from raw.loans.loans
