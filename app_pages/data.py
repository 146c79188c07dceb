"""Data: import with a preview and a rejected-row report, templates, export, import history, data quality
and users (programme admins only)."""

from __future__ import annotations

import datetime as dt
import functools

import streamlit as st

from qidash import auth, catalog, db, export, ingest, registers
from qidash.auth import AccessError
from qidash.models import ROLES
from qidash.scope import Scope
from qidash.text import markdown_literal
from qidash.ui import components, data
from qidash.ui.context import page_context
from qidash.views import data as view
from qidash.views import registers as registers_view

ctx = page_context()
engine, viewer, filters = ctx.engine, ctx.viewer, ctx.filters

if not viewer.is_admin:  # the frame does not register this page for other roles; this is a second lock
    st.error("The Data page is for programme admins.")
    st.stop()

components.page_header("Data", ctx.programme, filters)

MB = 1024 * 1024
# Streamlit checks each file against this before it reaches us; ingest checks the total.
UPLOAD_LIMIT_MB = min(ingest.MAX_UPLOAD_BYTES // MB, int(st.get_option("server.maxUploadSize")))
XLSX_MIME = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"

import_tab, templates_tab, export_tab, history_tab, quality_tab, users_tab = st.tabs(
    ["Import", "Templates", "Export", "Import history", "Data quality", "Users"]
)


# --- import ---------------------------------------------------------------------------------------------


def show_problems(frame, key: str) -> None:
    # Columns fit their contents, so the reason (the part to read) gets the room the short ones leave.
    # The file name already says which kind of data (or which sheet) a row is.
    table = view.problems_table(frame)
    # A note about a whole file has no row: blank, not "None".
    table["row"] = [None if r is None or r != r else str(int(r)) for r in table["row"]]
    st.dataframe(
        table,
        hide_index=True,
        width="stretch",
        key=key,
        column_order=["file", "row", "column", "value", "reason"],
        column_config={
            "file": st.column_config.TextColumn("File"),
            "row": st.column_config.TextColumn("Row", help="The row number in the spreadsheet"),
            "column": st.column_config.TextColumn("Column"),
            "value": st.column_config.TextColumn("Value"),
            "reason": st.column_config.TextColumn("Reason"),
        },
    )


def show_counts(counts, key: str) -> None:
    st.dataframe(
        view.counts_table(counts),
        hide_index=True,
        width="stretch",
        key=key,
        column_config={
            "data": st.column_config.TextColumn("Data"),
            "files": st.column_config.TextColumn("From"),
            "new": st.column_config.NumberColumn("New"),
            "updated": st.column_config.NumberColumn("Updated"),
            "unchanged": st.column_config.NumberColumn("Unchanged"),
            "rejected": st.column_config.NumberColumn("Rejected"),
        },
    )


def show_record(batch_id: int, key: str) -> None:
    """The audit record of one load: who, when, outcome, rows per kind of data, files and hashes, and the
    first rejected rows."""
    with engine.connect() as conn:
        record = view.import_record(conn, batch_id)
    if record is None:
        st.info(f"There is no import {batch_id}.")
        return
    st.markdown(
        f"**Import {record['id']}** · {record['outcome']} · by {markdown_literal(record['imported_by'])} on "
        f"{record['imported_at']:%d %B %Y at %H:%M} UTC · {view.plural(record['rows_accepted'], 'row')} "
        f"accepted, {record['rows_rejected']:,} rejected"
    )
    show_counts(record["counts"], key=f"{key}_counts")
    st.dataframe(
        record["files"],
        hide_index=True,
        width="stretch",
        key=f"{key}_files",
        column_config={
            "name": st.column_config.TextColumn("File"),
            "bytes": st.column_config.NumberColumn("Bytes", format="localized"),
            "sha256": st.column_config.TextColumn("SHA-256", width="large"),
        },
    )
    if record["rejected"]:
        shown = len(record["rejected"])
        more = record["rows_rejected"] - shown
        st.markdown("**Rejected rows**" + (f" (the first {shown})" if more > 0 else ""))
        st.code("\n".join(record["rejected"]), language=None, wrap_lines=True)


def uploaded_files():
    gen = st.session_state.setdefault("data_upload_gen", 0)
    return st.file_uploader(
        f"CSV files, or one XLSX workbook (up to {ingest.MAX_UPLOAD_LABEL} in all)",
        type=["csv", "xlsx"],
        accept_multiple_files=True,
        max_upload_size=UPLOAD_LIMIT_MB,
        key=f"data_upload_{gen}",
        help=(
            "Name each CSV after its data (people.csv, enrolments_2019.csv), or let its headings tell; in a "
            "workbook, name each sheet the same way. "
            f"Up to {ingest.MAX_UPLOAD_LABEL} in all; load larger files on the server with "
            "`python -m qidash import`."
        ),
    )


def previewed(files) -> dict:
    """The preview of ``files``, worked out once per upload and data version (kept in the session)."""
    signature = (tuple((f.file_id, f.name, f.size) for f in files), data.data_version(engine))
    held = st.session_state.get("_data_preview")
    if held is None or held["signature"] != signature:
        st.session_state.pop("_data_last_load", None)
        with st.spinner("Checking every row…"):
            try:
                batch = ingest.read_upload([(f.name, f.getvalue()) for f in files])
                held = {
                    "signature": signature,
                    "batch": batch,
                    "report": ingest.preview(engine, batch),
                    "unusable": None,
                }
            except ingest.UnusableInput as exc:
                held = {"signature": signature, "batch": None, "report": None, "unusable": exc.messages}
                ingest.record_unusable(engine, viewer.email, [f.name for f in files], exc.messages)
        st.session_state["_data_preview"] = held
    return held


def load(batch, allow_partial: bool) -> None:
    try:
        with st.spinner("Loading…"):
            result = ingest.commit(engine, batch, user=viewer.email, allow_partial=allow_partial)
    except db.WriterBusy as exc:
        st.warning(str(exc), icon=":material/hourglass_top:")
        return
    except ingest.ImportFailed as exc:  # recorded in the import history and logged
        st.error(str(exc))
        return
    st.session_state["_data_last_load"] = result
    if result.written or result.outcome == "unchanged":
        # A fresh, empty uploader: the file is loaded, and previewing it again would only say "unchanged".
        st.session_state["data_upload_gen"] += 1
        st.session_state.pop("_data_preview", None)
    st.rerun()


def show_last_load() -> None:
    result = st.session_state.get("_data_last_load")
    if result is None:
        return
    kind, text = view.outcome_message(result)
    getattr(st, kind)(markdown_literal(text))
    with st.container(border=True):
        st.markdown("**Audit record**")
        show_record(result.import_batch_id, key="last_load")


def show_preview(held: dict) -> None:
    if held["unusable"]:
        st.error(
            "These files cannot be loaded, so nothing was checked or written:\n\n"
            + "\n".join(f"- {markdown_literal(message)}" for message in held["unusable"])
        )
        return
    batch, report = held["batch"], held["report"]
    plan = view.load_plan(report)
    st.subheader("Preview")
    st.markdown(markdown_literal(view.preview_summary(report)))
    show_counts(report.counts, key="preview_counts")

    if plan.rejected:
        st.error(
            f"{view.plural(plan.rejected, 'row')} rejected. A load is all or nothing: "
            "nothing will be written until you fix them and upload the file again, unless you choose "
            "below to load the valid rows only."
        )
        st.markdown(f"**Rejected rows** ({len(report.rejected):,} problems)")
        show_problems(report.rejected, key="rejected_rows")
        components.file_download(
            "Download the rejected rows (CSV)",
            functools.partial(view.problems_csv, report.rejected),
            file_name=f"rejected-rows-{dt.date.today().isoformat()}.csv",
            mime="text/csv",
            what="rejected rows",
        )
    if len(report.notes):
        st.markdown(f"**Warnings** ({len(report.notes):,}): these rows still load, but check them")
        show_problems(report.notes, key="warning_rows")

    if plan.can_load:
        if st.button(
            f"Load {view.plural(plan.changes, 'new or updated row')}",
            type="primary",
            icon=":material/upload:",
        ):
            load(batch, allow_partial=False)
    elif plan.can_load_partly:
        with st.container(border=True):
            valid = view.plural(plan.valid, "valid row")
            confirmed = st.checkbox(
                f"Load the {valid} only, and leave out the {view.plural(plan.rejected, 'rejected row')}",
                key=f"data_partial_{st.session_state['data_upload_gen']}",
                help="Rows that refer to a rejected row are rejected too, so what loads is consistent.",
            )
            if st.button(f"Load {valid}", type="primary", disabled=not confirmed, icon=":material/upload:"):
                load(batch, allow_partial=True)
    elif not plan.rejected:
        st.info("Nothing to load: the database already holds every row of these files.")
    else:
        st.info("No valid row would change anything, so there is nothing to load.")


with import_tab:
    st.write(
        "Load registers and project data in the import format: one CSV, several CSVs, or one workbook with "
        "a sheet per kind of data (see Templates). Every row is checked and previewed before anything is "
        "written; loading the same file twice changes nothing."
    )
    files = uploaded_files()
    held = previewed(files) if files else None  # first: new files clear the last load's message
    show_last_load()
    if held:
        show_preview(held)
    elif "_data_last_load" not in st.session_state and (last := view.last_import(engine)):
        st.caption(markdown_literal(last))


# --- start from the public registers ------------------------------------------------------------------------


def register_uploads() -> dict:
    """The register files given, by kind: ``postcodes`` a list, the others one file (or None)."""
    gen = st.session_state.setdefault("data_upload_gen", 0)
    given = {}
    for kind, (label, types, help_text) in registers_view.REGISTER_FILES.items():
        many = kind == "postcodes"
        given[kind] = st.file_uploader(
            label, type=types, accept_multiple_files=many, max_upload_size=UPLOAD_LIMIT_MB,
            key=f"registers_{kind}_{gen}", help=help_text,
        )
    return given


def register_plan(icb: str, given: dict) -> dict:
    """The planned load of ``given`` for ``icb`` and its import preview, worked out once per choice of
    files and data version (kept in the session)."""
    files = [f for v in given.values() for f in (v if isinstance(v, list) else [v]) if f]
    signature = (icb, tuple((f.file_id, f.name, f.size) for f in files), data.data_version(engine))
    held = st.session_state.get("_registers_preview")
    if held is None or held["signature"] != signature:
        st.session_state.pop("_data_last_load", None)

        def upload(f):
            return (f.name, f.getvalue())

        with st.spinner("Reading the registers…"):
            try:
                plan = registers.plan(
                    engine, icb, **{k: upload(v) for k, v in given.items() if v and k != "postcodes"},
                    postcodes=[upload(f) for f in given["postcodes"]] or None,
                )
                held = {
                    "signature": signature,
                    "plan": plan,
                    "report": registers.preview(engine, plan),
                    "error": None,
                }
            except registers.RegisterError as exc:
                held = {"signature": signature, "plan": None, "report": None, "error": str(exc)}
                ingest.record_unusable(engine, viewer.email, [f.name for f in files], [str(exc)])
        st.session_state["_registers_preview"] = held
    return held


def show_register_plan(held: dict) -> None:
    if held["error"]:
        st.error(f"Nothing can be loaded: {held['error']}")
        return
    plan, report = held["plan"], held["report"]
    st.markdown(f"**Preview for {plan.icb.name}**")
    st.dataframe(registers_view.plan_table(plan), hide_index=True, width="stretch", key="registers_plan")
    for line in registers_view.plan_lines(plan):
        st.caption(line)
    if report.has_rejections:
        st.error(
            f"{view.plural(report.rows_rejected, 'row')} rejected; "
            "nothing will be written until they are fixed."
        )
        show_problems(report.rejected, key="registers_rejected")
    elif plan.changes == 0:
        st.info("Nothing to load: the database already matches these registers.")
    elif st.button(f"Load the registers for {plan.icb.name}", type="primary", icon=":material/upload:"):
        try:
            with st.spinner("Loading…"):
                result = registers.load(engine, plan, user=viewer.email)
        except db.WriterBusy as exc:
            st.warning(str(exc), icon=":material/hourglass_top:")
            return
        except ingest.ImportFailed as exc:  # recorded in the import history and logged
            st.error(str(exc))
            return
        st.session_state["_data_last_load"] = result
        st.session_state["data_upload_gen"] += 1
        st.session_state.pop("_registers_preview", None)
        st.rerun()


with import_tab, st.container(border=True):
    st.subheader("Start from the public registers")
    st.write(
        "Load your ICB's care homes, GP practices, PCNs and trusts from the files CQC and NHS ODS publish, "
        "as downloaded. Only the chosen ICB's rows are kept; loading next month's files updates names and "
        "beds, closes what has left the register (its people and projects stay) and changes nothing else."
    )
    choices = registers_view.icb_choices()
    stored_icb = data.setting(engine, registers.ICB_SETTING)
    codes = list(choices)
    icb_code = st.selectbox(
        "ICB", codes, index=codes.index(stored_icb) if stored_icb in choices else None,
        format_func=lambda c: f"{choices[c]} ({c})", key="registers_icb", placeholder="Choose your ICB",
    )
    if icb_code:  # the files are asked for once the ICB is chosen: they are kept to its rows
        given = register_uploads()
        if any(given.values()):
            show_register_plan(register_plan(icb_code, given))


# --- templates ----------------------------------------------------------------------------------------------

with templates_tab:
    st.write(
        "Start from a template: each has the column headings and one example row. The workbook has a sheet "
        "per kind of data and a notes sheet explaining every column; its examples refer to each other, so "
        "it loads as it is."
    )
    components.file_download(
        "Workbook template (XLSX, every sheet)",
        export.template_xlsx,
        file_name="qidash-import-template.xlsx",
        mime=XLSX_MIME,
        what="template",
        icon=":material/table_view:",
    )
    left, right = st.columns([2, 1], vertical_alignment="bottom")
    entity = left.selectbox(
        "CSV template for",
        list(ingest.FORMATS),
        format_func=lambda e: f"{e}.csv · {ingest.FORMATS[e].about}",
        key="template_entity",
    )
    components.file_download(
        f"Download {entity}.csv",
        functools.partial(export.template_csv, entity),
        file_name=f"{entity}.csv",
        mime="text/csv",
        what="template",
        where=right,
        width="stretch",
    )
    st.dataframe(
        view.template_columns(entity),
        hide_index=True,
        width="stretch",
        column_config={
            "column": st.column_config.TextColumn("Column"),
            "required": st.column_config.CheckboxColumn("Required", width="small"),
            "value": st.column_config.TextColumn("Value", width="medium"),
            "meaning": st.column_config.TextColumn("Meaning", width="large"),
            "example": st.column_config.TextColumn("Example"),
        },
    )


# --- export -------------------------------------------------------------------------------------------------


with export_tab:
    st.write(
        "Save the data as a workbook in the import format, so it can be edited and loaded again, or loaded "
        "into an empty database to reproduce the same numbers. Text a spreadsheet would run as a formula "
        "gets a leading ' (the import removes it). Every export is recorded in the audit trail."
    )
    today = dt.date.today()
    whole, scoped = st.columns(2)
    with whole, st.container(border=True, height="stretch"):
        st.markdown("**The whole database**")
        st.caption("Every sheet and every row, whatever the filters.")
        components.file_download(
            "Download the whole database (XLSX)",
            functools.partial(export.export_workbook, engine, Scope()),
            file_name=view.export_file_name(Scope(), today),
            mime=XLSX_MIME,
            what="workbook",
            action="export",
            detail={"kind": "xlsx", "scope": Scope().label()},
            icon=":material/database:",
        )
    with scoped, st.container(border=True, height="stretch"):
        st.markdown(f"**This view: {markdown_literal(filters.label)}**")
        if filters.scope.is_system:
            st.caption(
                "Choose a locality, PCN, organisation kind or sector in the sidebar to export part of the "
                "system."
            )
        else:
            st.caption(
                "The organisations in the sidebar's filters, their people and training, and the projects "
                "they lead or partner in."
            )
        components.file_download(
            "Download this view (XLSX)",
            functools.partial(export.export_workbook, engine, filters.scope),
            file_name=view.export_file_name(filters.scope, today),
            mime=XLSX_MIME,
            what="workbook",
            action="export",
            detail={"kind": "xlsx", "scope": filters.scope.label()},
            icon=":material/filter_alt:",
            disabled=filters.scope.is_system,
        )


# --- import history -----------------------------------------------------------------------------------------

with history_tab:
    history = view.import_history(engine)
    if history.empty:
        st.info("No file has been loaded through the page or the `import` command yet.")
    else:
        st.dataframe(
            history,
            hide_index=True,
            width="stretch",
            column_config={
                "id": st.column_config.NumberColumn("Import", width="small"),
                "imported_at": st.column_config.DatetimeColumn("When (UTC)", format="DD/MM/YYYY HH:mm"),
                "imported_by": st.column_config.TextColumn("Who"),
                "file_name": st.column_config.TextColumn("Files", width="medium"),
                "file_sha256": st.column_config.TextColumn(
                    "SHA-256", help="The first 12 characters of the hash"
                ),
                "rows_accepted": st.column_config.NumberColumn("Accepted"),
                "rows_rejected": st.column_config.NumberColumn("Rejected"),
                "outcome": st.column_config.TextColumn("Outcome"),
            },
        )
        chosen = st.selectbox(
            "Details of import",
            list(history["id"]),
            format_func=lambda i: f"Import {i}",
            key="history_import",
        )
        if chosen is not None:
            show_record(int(chosen), key="history")


# --- data quality -------------------------------------------------------------------------------------------

with quality_tab:
    st.write(
        f"What to fix across the whole database. A project is stale when active with no measurement and no "
        f"progress score in the 90 days to {filters.as_of:%d %B %Y} (the sidebar's date)."
    )
    lists = data.query(engine, view.quality_lists, filters.as_of)  # cached until the next load
    tiles = [*st.columns(3), *st.columns(3)]  # three to a row, so each label can be read whole
    for tile, found in zip(tiles, lists, strict=False):
        tile.metric(found.label, f"{found.count:,}", help=found.title, border=True)
    if not any(found.count for found in lists):
        st.success("Nothing to fix.")
    for found in lists:
        if found.count:
            with st.expander(f"{found.title}: {found.count:,}"):
                st.dataframe(found.rows, hide_index=True, width="stretch")


# --- users --------------------------------------------------------------------------------------------------

with users_tab:
    if viewer.demo:
        st.info(
            "No one signs in here (demo mode, or sign-in off), so these users take effect once sign-in is "
            "on.",
            icon=":material/info:",
        )
    with engine.connect() as conn:
        listed = auth.list_users(conn)
    users = view.users_table(listed)
    if users.empty:
        st.write("No users yet. Add the first below; only people listed here can sign in.")
    else:
        st.dataframe(
            users,
            hide_index=True,
            width="stretch",
            column_config={
                "email": st.column_config.TextColumn("Email"),
                "name": st.column_config.TextColumn("Name"),
                "role": st.column_config.TextColumn("Role"),
                "localities": st.column_config.TextColumn("Localities"),
                "pcns": st.column_config.TextColumn("PCNs"),
                "active": st.column_config.CheckboxColumn("Active"),
            },
        )

    st.subheader("Add or change a user")
    existing = {u["email"]: u for u in listed}
    if st.session_state.get("_user_pick_next") in existing:  # open the user just saved
        st.session_state["user_pick"] = st.session_state.pop("_user_pick_next")
    picked = st.selectbox("User", ["", *existing], format_func=lambda e: e or "A new user", key="user_pick")
    current = existing.get(picked, {})
    localities = data.query(engine, catalog.localities)
    pcns = data.query(engine, catalog.pcns)
    with st.form(f"user_form_{picked}", border=True):
        left, right = st.columns(2)
        email = left.text_input("Email", value=current.get("email", ""), disabled=bool(current))
        name = right.text_input("Name", value=current.get("name") or "")
        left, right = st.columns(2, vertical_alignment="bottom")
        role = left.selectbox(
            "Role",
            ROLES,
            index=ROLES.index(current.get("role", "executive")),
            format_func=auth.ROLE_LABELS.get,
        )
        active = right.checkbox("Active (can sign in)", value=bool(current.get("active", True)))
        left, right = st.columns(2)
        chosen_localities = left.multiselect(
            "Localities",
            list(localities),
            format_func=lambda c: localities.get(c, c),
            default=[c for c in (current.get("localities") or "").split(";") if c in localities],
            help="For a locality lead: the localities they may see. Admins always see the whole system.",
        )
        chosen_pcns = right.multiselect(
            "PCNs",
            list(pcns),
            format_func=lambda c: pcns.get(c, c),
            default=[c for c in (current.get("pcns") or "").split(";") if c in pcns],
            help="For a PCN lead: the PCNs they may see, on top of any localities.",
        )
        saved = st.form_submit_button("Save user", type="primary")
    if saved:
        email = current.get("email") or email
        refused = view.self_lockout(viewer.email, email, role, active)
        if refused:
            st.error(refused)
        else:
            try:
                auth.save_user(
                    engine,
                    viewer.email,
                    email,
                    role,
                    name.strip() or None,
                    localities=tuple(chosen_localities),
                    pcns=tuple(chosen_pcns),
                    active=active,
                )
            except AccessError as exc:
                st.error(str(exc))
            else:
                st.session_state["_user_saved"] = f"Saved {email}: {auth.ROLE_LABELS[role]}, " + (
                    "active." if active else "deactivated (cannot sign in)."
                )
                st.session_state["_user_pick_next"] = next(
                    (e for e in existing if e.lower() == email.strip().lower()), email.strip()
                )
                st.rerun()
    if message := st.session_state.pop("_user_saved", None):
        st.success(message)

    with engine.connect() as conn:
        changes = view.user_changes(conn)
    if not changes.empty:
        with st.expander("Recent changes to users (audit trail)"):
            st.dataframe(
                changes,
                hide_index=True,
                width="stretch",
                column_config={
                    "at": st.column_config.DatetimeColumn("When (UTC)", format="DD/MM/YYYY HH:mm")
                },
            )
