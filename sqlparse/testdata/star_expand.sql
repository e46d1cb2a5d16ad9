-- dialect: snowflake
-- schema: RAW.S.LOANS: LOAN_ID, PRINCIPAL, RATE, SECRET
-- schema: RAW.S.BORROWERS: BORROWER_ID, NAME
select l.* exclude (secret), b.* from raw.s.loans l join raw.s.borrowers b on l.loan_id = b.borrower_id;
select * except (rate, secret) from raw.s.loans
