"""email over SMTP: the outbox row's language, the SMTP session that filed a demo message

Revision ID: 7d3e5f1a2b4c
Revises: 5c1e0b7d9a21
Create Date: 2026-12-03 10:00:00

"""
from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel

from alembic import op

# revision identifiers, used by Alembic.
revision: str = '7d3e5f1a2b4c'
down_revision: str | Sequence[str] | None = '5c1e0b7d9a21'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Upgrade schema."""
    with op.batch_alter_table('outbox', schema=None) as batch_op:
        batch_op.add_column(sa.Column('lang', sqlmodel.sql.sqltypes.AutoString(), nullable=True))
    with op.batch_alter_table('demomessage', schema=None) as batch_op:
        batch_op.add_column(sa.Column('smtp_session', sqlmodel.sql.sqltypes.AutoString(), nullable=True))


def downgrade() -> None:
    """Downgrade schema."""
    with op.batch_alter_table('demomessage', schema=None) as batch_op:
        batch_op.drop_column('smtp_session')
    with op.batch_alter_table('outbox', schema=None) as batch_op:
        batch_op.drop_column('lang')
