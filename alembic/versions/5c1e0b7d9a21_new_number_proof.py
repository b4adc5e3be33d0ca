"""new number proof: an SMS code bound to the change request it proves

Revision ID: 5c1e0b7d9a21
Revises: 000496519408
Create Date: 2026-12-02 17:30:00

"""
from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel

from alembic import op

# revision identifiers, used by Alembic.
revision: str = '5c1e0b7d9a21'
down_revision: str | Sequence[str] | None = '000496519408'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Upgrade schema."""
    with op.batch_alter_table('smscode', schema=None) as batch_op:
        batch_op.add_column(sa.Column('request_id', sqlmodel.sql.sqltypes.AutoString(), nullable=True))
        batch_op.create_foreign_key('fk_smscode_request_id_changerequest', 'changerequest', ['request_id'], ['id'])


def downgrade() -> None:
    """Downgrade schema."""
    with op.batch_alter_table('smscode', schema=None) as batch_op:
        batch_op.drop_constraint('fk_smscode_request_id_changerequest', type_='foreignkey')
        batch_op.drop_column('request_id')
