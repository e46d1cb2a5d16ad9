-- dialect: databricks
-- Spark names a cast of a column after the column (its analyzer aliases
-- Cast(attribute) to the attribute); other expressions by their text.
create table casted as
select id, cast(amount as decimal(12, 2)), id::string, upper(name)
from orders
