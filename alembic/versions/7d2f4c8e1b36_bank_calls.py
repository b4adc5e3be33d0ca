"""bank calls: « Is my bank calling me? » (§12.5), an advisor's call to a customer and its report

Revision ID: 7d2f4c8e1b36
Revises: 7d3e5f1a2b4c
Create Date: 2026-12-02 18:20:00

"""
from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel

from alembic import op

# revision identifiers, used by Alembic.
revision: str = '7d2f4c8e1b36'
down_revision: str | Sequence[str] | None = '7d3e5f1a2b4c'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Upgrade schema."""
    op.create_table('bankcall',
    sa.Column('id', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.Column('customer_id', sa.Integer(), nullable=False),
    sa.Column('advisor_id', sa.Integer(), nullable=False),
    sa.Column('started_at', sa.DateTime(), nullable=False),
    sa.Column('ended_at', sa.DateTime(), nullable=True),
    sa.Column('end_reason', sqlmodel.sql.sqltypes.AutoString(), nullable=True),
    sa.Column('reported_at', sa.DateTime(), nullable=True),
    sa.ForeignKeyConstraint(['advisor_id'], ['advisor.id'], ),
    sa.ForeignKeyConstraint(['customer_id'], ['customer.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('bankcall', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_bankcall_customer_id'), ['customer_id'], unique=False)


def downgrade() -> None:
    """Downgrade schema."""
    with op.batch_alter_table('bankcall', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_bankcall_customer_id'))

    op.drop_table('bankcall')
