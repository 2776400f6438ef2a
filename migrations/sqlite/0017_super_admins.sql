-- An organisation's super admin (超级管理员, seed 004 §5.1.1.3): the one admin who manages the
-- organisation's other admins. At most one per organisation by construction; the code keeps exactly one
-- while the organisation has an active or pending admin. Removed admins (移除权限) keep their row, since
-- ledgers and audits refer to it, with status 'removed'.
ALTER TABLE accounts ADD COLUMN super_admin INTEGER NOT NULL DEFAULT 0;
UPDATE accounts SET super_admin = 1
 WHERE role <> 'staff' AND org_id IS NOT NULL AND status IN ('active', 'pending')
   AND id = (SELECT MIN(b.id) FROM accounts b
              WHERE b.tenant_id = accounts.tenant_id AND b.org_id = accounts.org_id AND b.role <> 'staff'
                AND b.status IN ('active', 'pending'));
CREATE UNIQUE INDEX accounts_one_super_admin ON accounts(tenant_id, org_id) WHERE super_admin = 1;
