-- dialect: databricks
-- schema: main.risk.features: loan_id, score, ds
insert into main.risk.features (loan_id, score) select id, risk * 100 from main.risk.raw;
insert into main.risk.features select id, risk, ds from main.risk.raw;
insert overwrite table main.risk.features partition (ds = '2024-01-01') select id, risk from main.risk.raw;
INSERT OVERWRITE INTO main.risk.features SELECT id, risk, ds FROM main.risk.raw
