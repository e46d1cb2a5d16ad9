-- dialect: databricks
select `Order Id`, o.`Amount` from `main`.`sales`.`orders` o
