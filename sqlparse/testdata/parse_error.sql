-- dialect: snowflake
select a from raw.s.t where connect_by_root ( -- ERROR "syntax error"
