-- dialect: snowflake
merge into marts.loans t using (select * from raw.loans.loans_delta) s on t.loan_id = s.loan_id
when matched and s.deleted then delete
when matched then update set t.principal = s.principal, t.updated_at = current_timestamp()
when not matched then insert (loan_id, principal) values (s.loan_id, s.principal)
