"""Minimal app: the same kind of page and events as the floor in /work/shared/notes/reflex-floor.md."""

import sqlalchemy.exc
import sqlmodel

import reflex as rx


class Hit(rx.Model, table=True):
    n: int = 0


class FloorState(rx.State):
    count: int = 0

    @rx.event
    def increment(self):
        self.count += 1

    @rx.event
    def db_write(self):
        with rx.session() as session:
            session.add(Hit(n=self.count))
            session.commit()
        self.count += 1


def index() -> rx.Component:
    return rx.container(
        rx.heading("Floor", size="7"),
        rx.text("Count: ", FloorState.count),
        rx.button("+1", on_click=FloorState.increment),
        rx.button("write", on_click=FloorState.db_write),
    )


app = rx.App()
app.add_page(index, route="/")

# The table exists before the first event (no alembic in the floor). Several workers (scale-out) may race
# to create it on PostgreSQL: the losers find it made.
try:
    sqlmodel.SQLModel.metadata.create_all(rx.model.get_engine())
except sqlalchemy.exc.SQLAlchemyError:
    pass
