-- dialect: snowflake
begin
  insert into marts.a select * from raw.s.b;
end;

-- A DECLARE section belongs to the block its BEGIN opens; CURSOR FOR opens
-- no block. Control flow the parser cannot read keeps table-level lineage.
declare
  c1 cursor for select id from raw.s.c;
  n integer default 0;
begin
  create table marts.z as select id, amount from raw.s.c;
  if (n > 0) then -- ERROR "syntax error"
    update marts.z set amount = 0 where id = 1;
  end if;
end;
