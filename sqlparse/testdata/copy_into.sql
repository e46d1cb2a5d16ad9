-- dialect: snowflake
copy into raw.loans.loans from @raw.loans.loans_stage/2024/ file_format = (type = csv) on_error = continue;
copy into raw.loans.payments (id, amt) from (select $1, $2 from @pay_stage) pattern = '.*[.]csv'
