"""the identity provider's issuer and subject on each user, bound at the first verified sign-in

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-06 21:45:00

An email claim alone does not say who signed in: a provider may hand out any address unverified. A
user is matched by the provider's issuer and subject once bound; the email is used only the first
time, when the provider marks it verified, to bind them. Existing users start unbound.
"""

import sqlalchemy as sa
from alembic import op

revision = '0010'
down_revision = '0009'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('app_user', schema=None) as batch_op:
        batch_op.add_column(sa.Column('oidc_issuer', sa.String(length=500), nullable=True))
        batch_op.add_column(sa.Column('oidc_subject', sa.String(length=255), nullable=True))
        batch_op.create_unique_constraint('uq_app_user_oidc_identity', ['oidc_issuer', 'oidc_subject'])


def downgrade() -> None:
    with op.batch_alter_table('app_user', schema=None) as batch_op:
        batch_op.drop_constraint('uq_app_user_oidc_identity', type_='unique')
        batch_op.drop_column('oidc_subject')
        batch_op.drop_column('oidc_issuer')
