-- dialect: snowflake
-- schema: RAW.LOANS.LOANS: LOAN_ID, PRINCIPAL, STATUS
with loans as (select loan_id, principal from raw.loans.loans where status = 'open'),
     big as (select * from loans where principal > 1000)
select b.loan_id, b.principal from big b
