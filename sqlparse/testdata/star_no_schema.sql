-- dialect: snowflake
select * from raw.s.unknown_table u join raw.s.other o on u.id = o.id
