-- dialect: databricks
-- The schema knows the target's columns but not their order (declared in
-- documentation, not read from a catalog). An INSERT without a column list
-- maps by position, so weft maps by name instead and warns about outputs
-- the target has no column for.
-- unordered-schema: main.risk.features: score, loan_id, ds
-- schema: main.risk.raw: id, risk, ds
insert into main.risk.features select id as loan_id, risk * 100 as score, ds from main.risk.raw;
insert into main.risk.features select id, risk * 100 as score from main.risk.raw;
insert into main.risk.features select * from main.risk.raw;
insert into main.risk.features (loan_id, score) select id, risk from main.risk.raw;
