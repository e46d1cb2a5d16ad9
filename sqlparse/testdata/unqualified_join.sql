-- dialect: snowflake
-- schema: RAW.S.LOANS: LOAN_ID, PRINCIPAL, BORROWER_ID
-- schema: RAW.S.BORROWERS: BORROWER_ID, NAME
select loan_id, name, principal from raw.s.loans join raw.s.borrowers using (borrower_id)
