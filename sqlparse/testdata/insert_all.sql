-- dialect: snowflake
insert all
  when amount > 100 then into big_loans (id, amt) values (loan_id, amount)
  else into small_loans values (loan_id, amount)
select loan_id, amount from raw.loans.loans
