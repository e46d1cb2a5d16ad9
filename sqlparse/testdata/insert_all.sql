-- dialect: snowflake
insert all
  when amount > 100 then into big_loans (id, amt) values (loan_id, amount)
  else into small_loans values (loan_id, amount)
select loan_id, amount from raw.loans.loans;
-- schema: RAW.LOANS.LOANS: LOAN_ID, AMOUNT, RATE
-- schema: AUDIT.LOANS: ID, AMOUNT, RATE
insert first
  into audit.loans
  into flagged (id) values (loan_id)
select * from raw.loans.loans where rate > 0.2;
