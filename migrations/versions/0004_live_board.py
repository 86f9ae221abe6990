"""rounds: whether the live boards are public while the round runs

Revision ID: 0004_live_board
Revises: 0003_rounds
Create Date: 2026-11-30 13:20:00

"""
import sqlalchemy as sa
from alembic import op

revision = '0004_live_board'
down_revision = '0003_rounds'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('rounds') as batch_op:
        batch_op.add_column(sa.Column('live_board', sa.Boolean(), server_default=sa.true(), nullable=False))


def downgrade():
    with op.batch_alter_table('rounds') as batch_op:
        batch_op.drop_column('live_board')
