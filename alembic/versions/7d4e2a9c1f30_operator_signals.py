"""operator signals: the operator's answers, the simulated operator's lines, a recycled secure number

Revision ID: 7d4e2a9c1f30
Revises: 7d2f4c8e1b36
Create Date: 2026-12-02 18:45:00

"""
from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel

from alembic import op

# revision identifiers, used by Alembic.
revision: str = '7d4e2a9c1f30'
down_revision: str | Sequence[str] | None = '7d2f4c8e1b36'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Upgrade schema."""
    op.create_table('operator_check',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('customer_id', sa.Integer(), nullable=True),
    sa.Column('operator', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.Column('api', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.Column('correlator', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.Column('at', sa.DateTime(), nullable=False),
    sa.Column('latency_ms', sa.Integer(), nullable=False),
    sa.Column('attempts', sa.Integer(), nullable=False),
    sa.Column('purpose', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.Column('subject', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.Column('number', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.Column('result', sqlmodel.sql.sqltypes.AutoString(), nullable=True),
    sa.Column('error', sqlmodel.sql.sqltypes.AutoString(), nullable=True),
    sa.ForeignKeyConstraint(['customer_id'], ['customer.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('operator_check', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_operator_check_at'), ['at'], unique=False)
        batch_op.create_index(batch_op.f('ix_operator_check_customer_id'), ['customer_id'], unique=False)

    op.create_table('operator_line',
    sa.Column('phone_e164', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.Column('given_name', sqlmodel.sql.sqltypes.AutoString(), nullable=True),
    sa.Column('family_name', sqlmodel.sql.sqltypes.AutoString(), nullable=True),
    sa.Column('subscribed_since', sa.Date(), nullable=True),
    sa.Column('sim_changed_at', sa.DateTime(), nullable=True),
    sa.Column('device_changed_at', sa.DateTime(), nullable=True),
    sa.Column('forwarding', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.Column('updated_at', sa.DateTime(), nullable=False),
    sa.PrimaryKeyConstraint('phone_e164')
    )
    with op.batch_alter_table('customer', schema=None) as batch_op:
        batch_op.add_column(sa.Column('number_recycled_at', sa.DateTime(), nullable=True))


def downgrade() -> None:
    """Downgrade schema."""
    with op.batch_alter_table('customer', schema=None) as batch_op:
        batch_op.drop_column('number_recycled_at')
    op.drop_table('operator_line')
    with op.batch_alter_table('operator_check', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_operator_check_customer_id'))
        batch_op.drop_index(batch_op.f('ix_operator_check_at'))
    op.drop_table('operator_check')
