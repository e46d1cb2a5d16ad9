-- dialect: snowflake
select principal * rate as interest, interest * 12 as yearly from raw.s.loans
