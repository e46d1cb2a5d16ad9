-- dialect: snowflake
-- default: DB.S
-- Snowflake names an unaliased cast by its text, like any expression;
-- a plain column keeps its name.
create table casted as
select id, id::varchar, cast(amount as number(12, 2)), v:a.b::string
from orders
