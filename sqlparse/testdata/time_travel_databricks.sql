-- dialect: databricks
select id from main.risk.features version as of 3;
select id from main.risk.features timestamp as of '2024-01-01'
