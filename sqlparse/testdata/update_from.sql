-- dialect: postgres
update accounts a set balance = a.balance + p.amount, updated_at = now()
from payments p where p.account_id = a.id and p.status = 'ok'
