-- dialect: snowflake
begin
  insert into marts.a select * from raw.s.b;
end
