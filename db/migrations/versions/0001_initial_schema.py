"""initial schema

Revision ID: 0001
Revises: 
Create Date: 2026-11-23
"""

from alembic import op
import sqlalchemy as sa


revision = '0001'
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('authority',
    sa.Column('ons_code', sa.String(length=9), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('short_name', sa.String(length=120), nullable=False),
    sa.Column('region', sa.String(length=60), nullable=False),
    sa.Column('ofsted_urn', sa.String(length=20), nullable=True),
    sa.Column('dfe_code', sa.String(length=10), nullable=True),
    sa.Column('status', sa.String(length=10), nullable=False),
    sa.Column('aliases', sa.JSON(), nullable=False),
    sa.Column('successors', sa.JSON(), nullable=False),
    sa.PrimaryKeyConstraint('ons_code')
    )
    with op.batch_alter_table('authority', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_authority_ofsted_urn'), ['ofsted_urn'], unique=False)

    op.create_table('outbox',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('channel', sa.String(length=100), nullable=False),
    sa.Column('event_key', sa.String(length=200), nullable=False),
    sa.Column('message_key', sa.String(length=64), nullable=False),
    sa.Column('event_type', sa.String(length=30), nullable=False),
    sa.Column('payload', sa.JSON(), nullable=False),
    sa.Column('status', sa.String(length=10), nullable=False),
    sa.Column('attempts', sa.Integer(), nullable=False),
    sa.Column('next_attempt_at', sa.DateTime(), nullable=False),
    sa.Column('lease_owner', sa.String(length=64), nullable=True),
    sa.Column('lease_until', sa.DateTime(), nullable=True),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('sent_at', sa.DateTime(), nullable=True),
    sa.Column('last_error', sa.Text(), nullable=True),
    sa.Column('subject', sa.Text(), nullable=True),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('channel', 'event_key'),
    sa.UniqueConstraint('message_key')
    )
    with op.batch_alter_table('outbox', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_outbox_channel'), ['channel'], unique=False)
        batch_op.create_index(batch_op.f('ix_outbox_status'), ['status'], unique=False)

    op.create_table('page',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('url', sa.String(length=2000), nullable=False),
    sa.Column('source', sa.String(length=100), nullable=False),
    sa.Column('role', sa.String(length=20), nullable=False),
    sa.Column('content_hash', sa.String(length=64), nullable=True),
    sa.Column('etag', sa.String(length=200), nullable=True),
    sa.Column('last_modified', sa.String(length=100), nullable=True),
    sa.Column('first_seen', sa.DateTime(), nullable=False),
    sa.Column('last_fetched', sa.DateTime(), nullable=False),
    sa.Column('last_changed', sa.DateTime(), nullable=False),
    sa.Column('parse_error', sa.Text(), nullable=True),
    sa.Column('outcome_count', sa.Integer(), nullable=False),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('url')
    )
    with op.batch_alter_table('page', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_page_source'), ['source'], unique=False)

    op.create_table('run',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('started_at', sa.DateTime(), nullable=False),
    sa.Column('finished_at', sa.DateTime(), nullable=True),
    sa.Column('status', sa.String(length=20), nullable=False),
    sa.Column('counts', sa.JSON(), nullable=False),
    sa.Column('errors', sa.JSON(), nullable=False),
    sa.PrimaryKeyConstraint('id')
    )
    op.create_table('source_state',
    sa.Column('name', sa.String(length=100), nullable=False),
    sa.Column('kind', sa.String(length=20), nullable=False),
    sa.Column('last_run_at', sa.DateTime(), nullable=True),
    sa.Column('last_success_at', sa.DateTime(), nullable=True),
    sa.Column('consecutive_failures', sa.Integer(), nullable=False),
    sa.Column('failing', sa.Boolean(), nullable=False),
    sa.Column('last_error', sa.Text(), nullable=True),
    sa.Column('not_before', sa.DateTime(), nullable=True),
    sa.Column('baseline_done', sa.Boolean(), nullable=False),
    sa.Column('lease_owner', sa.String(length=64), nullable=True),
    sa.Column('lease_until', sa.DateTime(), nullable=True),
    sa.PrimaryKeyConstraint('name')
    )
    op.create_table('delivery_attempt',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('outbox_id', sa.Integer(), nullable=False),
    sa.Column('at', sa.DateTime(), nullable=False),
    sa.Column('ok', sa.Boolean(), nullable=False),
    sa.Column('code', sa.String(length=20), nullable=True),
    sa.Column('latency_ms', sa.Float(), nullable=False),
    sa.Column('error', sa.Text(), nullable=True),
    sa.Column('recipient', sa.Text(), nullable=True),
    sa.ForeignKeyConstraint(['outbox_id'], ['outbox.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('delivery_attempt', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_delivery_attempt_outbox_id'), ['outbox_id'], unique=False)

    op.create_table('inspection_event',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('authority_code', sa.String(length=9), nullable=False),
    sa.Column('event_type', sa.String(length=30), nullable=False),
    sa.Column('framework', sa.String(length=20), nullable=False),
    sa.Column('status', sa.String(length=10), nullable=False),
    sa.Column('overall', sa.String(length=30), nullable=True),
    sa.Column('send_outcome', sa.String(length=30), nullable=True),
    sa.Column('inspection_start', sa.Date(), nullable=True),
    sa.Column('inspection_end', sa.Date(), nullable=True),
    sa.Column('published', sa.Date(), nullable=True),
    sa.Column('priority_action', sa.Boolean(), nullable=True),
    sa.Column('pilot', sa.Boolean(), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('historical', sa.Boolean(), nullable=False),
    sa.Column('alerted', sa.Boolean(), nullable=False),
    sa.Column('confirmation_alerted', sa.Boolean(), nullable=False),
    sa.Column('touched_run', sa.Integer(), nullable=True),
    sa.Column('first_seen_run', sa.Integer(), nullable=True),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('updated_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['authority_code'], ['authority.ons_code'], ),
    sa.ForeignKeyConstraint(['first_seen_run'], ['run.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('inspection_event', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_inspection_event_authority_code'), ['authority_code'], unique=False)
        batch_op.create_index(batch_op.f('ix_inspection_event_touched_run'), ['touched_run'], unique=False)

    op.create_table('inspection_version',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('event_id', sa.Integer(), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('content_hash', sa.String(length=64), nullable=False),
    sa.Column('payload', sa.JSON(), nullable=False),
    sa.Column('run_id', sa.Integer(), nullable=True),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['event_id'], ['inspection_event.id'], ),
    sa.ForeignKeyConstraint(['run_id'], ['run.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('event_id', 'version')
    )
    with op.batch_alter_table('inspection_version', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_inspection_version_event_id'), ['event_id'], unique=False)

    op.create_table('judgement',
    sa.Column('event_id', sa.Integer(), nullable=False),
    sa.Column('area', sa.String(length=60), nullable=False),
    sa.Column('grade', sa.String(length=30), nullable=False),
    sa.ForeignKeyConstraint(['event_id'], ['inspection_event.id'], ),
    sa.PrimaryKeyConstraint('event_id', 'area')
    )
    op.create_table('observation',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('event_id', sa.Integer(), nullable=False),
    sa.Column('page_url', sa.String(length=2000), nullable=False),
    sa.Column('source_name', sa.String(length=100), nullable=False),
    sa.Column('source_kind', sa.String(length=20), nullable=False),
    sa.Column('status', sa.String(length=10), nullable=False),
    sa.Column('content_hash', sa.String(length=64), nullable=False),
    sa.Column('confidence', sa.Float(), nullable=False),
    sa.Column('payload', sa.JSON(), nullable=False),
    sa.Column('fetched_at', sa.DateTime(), nullable=False),
    sa.Column('first_seen', sa.DateTime(), nullable=False),
    sa.Column('mismatch_alerted', sa.Boolean(), nullable=False),
    sa.ForeignKeyConstraint(['event_id'], ['inspection_event.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('page_url', 'event_id')
    )
    with op.batch_alter_table('observation', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_observation_event_id'), ['event_id'], unique=False)



def downgrade() -> None:
    with op.batch_alter_table('observation', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_observation_event_id'))

    op.drop_table('observation')
    op.drop_table('judgement')
    with op.batch_alter_table('inspection_version', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_inspection_version_event_id'))

    op.drop_table('inspection_version')
    with op.batch_alter_table('inspection_event', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_inspection_event_touched_run'))
        batch_op.drop_index(batch_op.f('ix_inspection_event_authority_code'))

    op.drop_table('inspection_event')
    with op.batch_alter_table('delivery_attempt', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_delivery_attempt_outbox_id'))

    op.drop_table('delivery_attempt')
    op.drop_table('source_state')
    op.drop_table('run')
    with op.batch_alter_table('page', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_page_source'))

    op.drop_table('page')
    with op.batch_alter_table('outbox', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_outbox_status'))
        batch_op.drop_index(batch_op.f('ix_outbox_channel'))

    op.drop_table('outbox')
    with op.batch_alter_table('authority', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_authority_ofsted_urn'))

    op.drop_table('authority')
