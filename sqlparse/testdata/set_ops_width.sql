-- dialect: databricks
-- Branches of different widths: every engine rejects this. The columns
-- are matched by position as far as both go, with a warning.
insert into tgt
select a from t1
union all
select b, a from t2 -- ERROR "each UNION query must have the same number of columns"
