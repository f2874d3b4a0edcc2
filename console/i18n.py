"""The console's words in Indonesian (the default) and English, and how a page picks its language.

One catalogue, a pair per key, so that no text exists in one language only. A page's language
is, in order: ``?lang=`` (which also sets the ``console_lang`` cookie), that cookie, the
officer's own setting, then ``[console] language``. Codes of the procedure (statuses, kinds,
channels, actions) have their names here too; a code without one shows as itself.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

LANGUAGES = ("id", "en")
DEFAULT = "id"
COOKIE = "console_lang"

_CATALOGUE: dict[str, tuple[str, str]] = {
    # layout
    "app.name": ("Konsol Petugas", "Officer console"),
    "nav.inbox": ("Kotak masuk", "Inbox"),
    "nav.dashboard": ("Dasbor", "Dashboard"),
    "nav.walkin": ("Catat kunjungan", "Register a visit"),
    "nav.letter": ("Catat surat", "Register a letter"),
    "nav.queue": ("Antrian", "Queue"),
    "nav.logout": ("Keluar", "Log out"),
    "nav.signed_in": ("Masuk sebagai {name} ({role})", "Signed in as {name} ({role})"),
    "nav.language": ("Bahasa", "Language"),
    "nav.skip": ("Lewati ke isi", "Skip to content"),
    "live.new": ("Ada kabar baru: tampilan diperbarui.", "New activity: the page was updated."),
    "live.offline": ("Pembaruan langsung terputus; muat ulang halaman.", "Live updates stopped; reload the page."),
    # roles
    "role.admin": ("Admin", "Admin"),
    "role.ult": ("Petugas ULT", "ULT officer"),
    "role.unit": ("Petugas unit", "Unit officer"),
    "role.auditor": ("Auditor", "Auditor"),
    # statuses
    "status.received": ("Diterima", "Received"),
    "status.verifying": ("Diverifikasi", "Verifying"),
    "status.waiting_reporter": ("Menunggu pelapor", "Waiting for the reporter"),
    "status.forwarded": ("Diteruskan", "Forwarded"),
    "status.in_progress": ("Ditindaklanjuti", "In progress"),
    "status.resolved": ("Selesai ditangani", "Resolved"),
    "status.closed": ("Ditutup", "Closed"),
    "status.rejected": ("Ditolak", "Rejected"),
    # kinds
    "kind.pengaduan": ("Pengaduan", "Complaint"),
    "kind.aspirasi": ("Aspirasi", "Suggestion"),
    "kind.permintaan_informasi": ("Permintaan informasi", "Information request"),
    # channels
    "channel.email": ("Email", "Email"),
    "channel.whatsapp": ("WhatsApp", "WhatsApp"),
    "channel.instagram": ("Instagram", "Instagram"),
    "channel.telegram": ("Telegram", "Telegram"),
    "channel.sms": ("SMS", "SMS"),
    "channel.phonelog": ("Telepon", "Phone call"),
    "channel.walkin": ("Kunjungan langsung", "Walk-in"),
    "channel.letter": ("Surat/faks", "Letter/fax"),
    "channel.lapor": ("SP4N-LAPOR!", "SP4N-LAPOR!"),
    "channel.webform": ("Formulir web", "Web form"),
    # priorities
    "priority.normal": ("Biasa", "Normal"),
    "priority.high": ("Tinggi", "High"),
    "priority.urgent": ("Mendesak", "Urgent"),
    # delivery states
    "delivery.pending": ("Antre", "Queued"),
    "delivery.sending": ("Dikirim", "Sending"),
    "delivery.sent": ("Terkirim", "Sent"),
    "delivery.delivered": ("Sampai", "Delivered"),
    "delivery.read": ("Dibaca", "Read"),
    "delivery.failed": ("Gagal", "Failed"),
    "delivery.dead": ("Gagal permanen", "Failed for good"),
    # inbox
    "inbox.title": ("Kotak masuk", "Inbox"),
    "inbox.title_unit": ("Kotak masuk {unit}", "Inbox of {unit}"),
    "inbox.empty": ("Tidak ada laporan yang cocok.", "No case matches."),
    "inbox.next": ("Halaman berikutnya", "Next page"),
    "inbox.first": ("Kembali ke awal", "Back to the first page"),
    "inbox.count": ("{count} laporan di halaman ini", "{count} cases on this page"),
    "filter.title": ("Saring", "Filter"),
    "filter.status": ("Status", "Status"),
    "filter.channel": ("Kanal", "Channel"),
    "filter.kind": ("Jenis", "Kind"),
    "filter.unit": ("Unit", "Unit"),
    "filter.any": ("Semua", "Any"),
    "filter.overdue": ("Lewat batas waktu", "Overdue"),
    "filter.confidential": ("Rahasia", "Confidential"),
    "filter.mine": ("Ditugaskan ke saya", "Assigned to me"),
    "filter.text": ("Cari teks", "Search text"),
    "filter.apply": ("Terapkan", "Apply"),
    "filter.reset": ("Hapus saringan", "Clear filters"),
    "filter.open": ("Terbuka", "Open"),
    "col.tracking": ("Nomor tiket", "Tracking number"),
    "col.subject": ("Perihal", "Subject"),
    "col.kind": ("Jenis", "Kind"),
    "col.unit": ("Unit", "Unit"),
    "col.status": ("Status", "Status"),
    "col.channel": ("Kanal", "Channel"),
    "col.due": ("Batas waktu", "Due"),
    "col.assignee": ("Petugas", "Officer"),
    "col.received": ("Diterima", "Received"),
    "col.reporter": ("Pelapor", "Reporter"),
    "badge.confidential": ("Rahasia", "Confidential"),
    "badge.anonymous": ("Anonim", "Anonymous"),
    "badge.overdue": ("Terlambat", "Overdue"),
    "masked": ("[dirahasiakan]", "[withheld]"),
    "nobody": ("—", "—"),
    "no_subject": ("(tanpa perihal)", "(no subject)"),
    # time left
    "left.days": ("{n} hari lagi", "{n} days left"),
    "left.hours": ("{n} jam lagi", "{n} hours left"),
    "left.minutes": ("{n} menit lagi", "{n} minutes left"),
    "late.days": ("terlambat {n} hari", "{n} days late"),
    "late.hours": ("terlambat {n} jam", "{n} hours late"),
    "late.minutes": ("terlambat {n} menit", "{n} minutes late"),
    "left.met": ("terpenuhi", "met"),
    "left.paused": ("berhenti (menunggu pelapor)", "stopped (waiting for the reporter)"),
    # case page
    "case.title": ("Laporan {tracking}", "Case {tracking}"),
    "case.back": ("Kembali ke kotak masuk", "Back to the inbox"),
    "case.thread": ("Percakapan", "Thread"),
    "case.thread_empty": ("Belum ada pesan.", "No messages yet."),
    "case.in": ("Masuk", "In"),
    "case.out": ("Keluar", "Out"),
    "case.by_officer": ("oleh {name}", "by {name}"),
    "case.attachments": ("Lampiran", "Attachments"),
    "case.view": ("Lihat", "View"),
    "case.download": ("Unduh", "Download"),
    "case.file_pending": ("sedang diambil dari kanal", "being fetched from the channel"),
    "case.file_failed": ("gagal diambil", "could not be fetched"),
    "case.details": ("Rincian", "Details"),
    "case.reporter": ("Pelapor", "Reporter"),
    "case.reporter_masked": (
        "Identitas pelapor dirahasiakan untuk peran Anda.",
        "The reporter's identity is withheld from your role.",
    ),
    "case.identity_seen": (
        "Identitas ini rahasia; tampilan Anda dicatat dalam jejak audit.",
        "This identity is confidential; your view is recorded in the audit trail.",
    ),
    "case.identities": ("Identitas terhubung", "Linked identities"),
    "case.suggestions": ("Usulan penggabungan identitas", "Suggested identity links"),
    "case.suggestion_cases": ("Laporan lain: {cases}", "Other cases: {cases}"),
    "case.confirm": ("Hubungkan", "Confirm"),
    "case.reject_link": ("Tolak", "Reject"),
    "case.unlink": ("Putuskan", "Unlink"),
    "case.deadlines": ("Batas waktu", "Deadlines"),
    "case.routing": ("Alasan penempatan", "Why it was routed here"),
    "case.routing_none": ("Aturan bawaan (tidak ada aturan yang cocok).", "The default (no rule matched)."),
    "case.audit": ("Jejak audit", "Audit trail"),
    "case.actions": ("Tindakan", "Actions"),
    "case.readonly": ("Peran Anda hanya dapat membaca.", "Your role is read-only."),
    "case.missing": ("Belum lengkap: {items}", "Still missing: {items}"),
    "case.external_ref": ("Nomor SP4N-LAPOR!", "SP4N-LAPOR! number"),
    "case.done": ("Tindakan tercatat.", "Action recorded."),
    "case.notes": ("Catatan", "Note"),
    "deadline.verify": ("Verifikasi dan penerusan", "Verification and forwarding"),
    "deadline.first_response": ("Tindak lanjut pertama", "First follow-up"),
    "deadline.resolution": ("Penyelesaian", "Resolution"),
    "deadline.final": ("Batas akhir (Perpres 76/2013)", "Legal ceiling (Perpres 76/2013)"),
    "case.next_due": ("Batas waktu berikutnya: {what}, {left}", "Next deadline: {what}, {left}"),
    # audit events (a code without a name shows as itself)
    "event.created": ("dibuat", "created"),
    "event.message_added": ("pesan baru", "new message"),
    "event.receipt_sent": ("tanda terima terkirim", "receipt sent"),
    "event.receipt_failed": ("tanda terima gagal", "receipt failed"),
    "event.receipt_printed": ("tanda terima dicetak", "receipt printed"),
    "event.receipt_in_person": ("tanda terima diberikan langsung", "receipt given in person"),
    "event.verifying": ("mulai verifikasi", "started verifying"),
    "event.checklist": ("langkah pemeriksaan", "review steps"),
    "event.waiting_reporter": ("meminta keterangan pelapor", "asked the reporter"),
    "event.resumed": ("pelapor menjawab", "the reporter answered"),
    "event.incomplete": ("belum lengkap", "incomplete"),
    "event.forwarded": ("diteruskan", "forwarded"),
    "event.assigned": ("ditugaskan", "assigned"),
    "event.in_progress": ("mulai ditindaklanjuti", "work started"),
    "event.replied": ("membalas", "replied"),
    "event.reply_sent": ("balasan terkirim", "reply sent"),
    "event.reply_in_person": ("sampaikan langsung", "tell them in person"),
    "event.extended": ("batas waktu diperpanjang", "deadline extended"),
    "event.resolved": ("diselesaikan", "resolved"),
    "event.survey_sent": ("survei dikirim", "survey sent"),
    "event.survey_answered": ("survei dijawab", "survey answered"),
    "event.closed": ("ditutup", "closed"),
    "event.rejected": ("ditolak", "rejected"),
    "event.corrected": ("jenis/unit dikoreksi", "kind/unit corrected"),
    "event.merged_into": ("digabung ke", "merged into"),
    "event.merged_from": ("menerima gabungan", "merged from"),
    "event.split_to": ("dipisah ke", "split to"),
    "event.split_from": ("dipisah dari", "split from"),
    "event.deadline_warning": ("batas waktu mendekat", "deadline near"),
    "event.deadline_breached": ("batas waktu terlewati", "deadline missed"),
    "event.delivery_failed": ("pengiriman gagal", "delivery failed"),
    "event.reporter_revealed": ("melihat identitas pelapor", "viewed the reporter's identity"),
    "event.identity_linked": ("menghubungkan identitas", "linked identities"),
    "event.identity_link_dismissed": ("menolak usulan identitas", "dismissed an identity suggestion"),
    "health.silent": ("tidak ada pesan masuk", "no inbound messages"),
    "health.auth_failed": ("token ditolak/kedaluwarsa", "token refused or expired"),
    "health.send_down": ("pengiriman gagal terus", "sending fails"),
    "field.kind": ("Jenis", "Kind"),
    "field.unit": ("Unit", "Unit"),
    "field.status": ("Status", "Status"),
    "field.channel": ("Kanal", "Channel"),
    "field.priority": ("Prioritas", "Priority"),
    "field.assignee": ("Petugas", "Officer"),
    "field.received": ("Diterima", "Received"),
    "field.language": ("Bahasa pelapor", "Reporter's language"),
    "field.name": ("Nama", "Name"),
    # actions
    "action.verify": ("Verifikasi", "Verify"),
    "action.ask": ("Minta keterangan", "Ask for information"),
    "action.forward": ("Teruskan ke unit", "Forward to a unit"),
    "action.assign": ("Tugaskan", "Assign"),
    "action.start": ("Mulai tindak lanjut", "Start work"),
    "action.reply": ("Balas pelapor", "Reply to the reporter"),
    "action.extend": ("Perpanjang batas waktu", "Extend the deadline"),
    "action.resolve": ("Selesaikan dengan laporan", "Resolve with the report"),
    "action.close": ("Tutup", "Close"),
    "action.reject": ("Tolak", "Reject"),
    "action.merge": ("Gabungkan ke laporan lain", "Merge into another case"),
    "action.split": ("Pisahkan pesan", "Split messages off"),
    "action.correct": ("Koreksi jenis dan unit", "Correct kind and unit"),
    "action.unmerge": ("Batalkan penggabungan", "Undo the merge"),
    "action.unsplit": ("Kembalikan ke laporan asal", "Undo the split"),
    "form.submit": ("Kirim", "Submit"),
    "form.note": ("Catatan", "Note"),
    "form.steps": ("Langkah pemeriksaan", "Review steps"),
    "form.complete": ("Berkas lengkap", "The file is complete"),
    "form.question": ("Pertanyaan untuk pelapor", "Question for the reporter"),
    "form.missing": ("Yang kurang", "What is missing"),
    "form.unit": ("Unit tujuan", "Unit"),
    "form.officer": ("Petugas", "Officer"),
    "form.mine": ("Tugaskan ke saya", "Assign to me"),
    "form.text": ("Pesan", "Message"),
    "form.reply_channel": ("Lewat kanal", "By channel"),
    "form.reply_default": ("Kanal terakhir pelapor", "The reporter's latest channel"),
    "form.reason": ("Alasan", "Reason"),
    "form.report": ("Laporan tindak lanjut", "Follow-up report"),
    "form.target": ("Nomor tiket tujuan", "Target tracking number"),
    "form.messages": ("Pesan yang dipisahkan", "Messages to split off"),
    "form.kind": ("Jenis", "Kind"),
    "form.optional": ("(boleh kosong)", "(optional)"),
    "step.problem_identification": ("Identifikasi masalah", "Problem identification"),
    "step.substance_check": ("Pemeriksaan substansi", "Substance check"),
    "step.clarification": ("Klarifikasi", "Clarification"),
    "step.evidence_evaluation": ("Evaluasi bukti", "Evidence evaluation"),
    "step.selection": ("Seleksi", "Selection"),
    "missing.identity": ("Identitas", "Identity"),
    "missing.place": ("Tempat kejadian", "Place"),
    "missing.time": ("Waktu kejadian", "Time"),
    "missing.what": ("Kronologi", "What happened"),
    "missing.who": ("Pihak yang dilaporkan", "Who is reported"),
    "missing.evidence": ("Bukti", "Evidence"),
    # the walk-in desk's queue
    "queue.title": ("Antrian loket", "Counter queue"),
    "queue.take": ("Ambil nomor {prefix}", "Take a number {prefix}"),
    "queue.taken": ("Nomor antrian:", "Queue number:"),
    "queue.print": ("Cetak tiket", "Print the ticket"),
    "queue.at_counter": ("Sedang dipanggil", "At the counter"),
    "queue.waiting_count": ("{count} menunggu", "{count} waiting"),
    "queue.set_aside_count": ("{count} tidak hadir", "{count} not present"),
    "queue.served_count": ("{count} selesai dilayani", "{count} served"),
    "queue.counter_page": ("Halaman loket", "Counter page"),
    "queue.display_link": ("Layar ruang tunggu (buka di layar TV)", "Waiting-room display (open on the screen)"),
    "queue.display_title": ("Antrian", "Queue"),
    "queue.next": ("Berikutnya", "Next"),
    "queue.sound_on": ("Nyalakan suara panggilan", "Turn on the spoken calls"),
    "queue.offline": (
        "Layar tidak terhubung; petugas memanggil langsung.",
        "The display lost its connection; officers call in person.",
    ),
    "queue.call": ("Panggil", "Call"),
    "queue.again": ("Panggil ulang", "Call again"),
    "queue.served": ("Selesai dilayani", "Served"),
    "queue.served_by_hand": ("Dilayani (dipanggil manual)", "Served (called by hand)"),
    "queue.absent": ("Tidak hadir", "Not present"),
    "queue.returned": ("Datang kembali", "Came back"),
    "queue.came_back": ("datang kembali", "came back"),
    "queue.register": ("Catat kunjungan ini", "Register this visit"),
    "queue.call_count": ("Panggilan ke-{call} dari {limit}", "Call {call} of {limit}"),
    "queue.waited": ("menunggu {minutes} menit", "waited {minutes} min"),
    "queue.done_called": ("{number} dipanggil (panggilan ke-{call}).", "{number} called (call {call})."),
    "queue.done_called_aside": (
        "{aside} tidak hadir setelah tiga panggilan; {number} dipanggil.",
        "{aside} not present after the last call; {number} called.",
    ),
    "queue.done_nobody": ("Tidak ada yang menunggu.", "Nobody is waiting."),
    "queue.done_nobody_aside": (
        "{aside} tidak hadir setelah panggilan terakhir; tidak ada yang menunggu.",
        "{aside} not present after the last call; nobody is waiting.",
    ),
    "queue.done_absent": ("{number} dicatat tidak hadir.", "{number} set aside as not present."),
    "queue.done_served": ("{number} selesai dilayani.", "{number} served."),
    "queue.done_returned": (
        "{number} kembali ke antrian, urutan ke-{place}.",
        "{number} is back in line, place {place}.",
    ),
    "queue.unknown_counter": ("Loket tidak dikenal.", "No such counter."),
    "queue.no_such_number": ("Nomor {number} tidak ada hari ini.", "No number {number} today."),
    "queue.unknown_number": ("{number} bukan nomor antrian loket di sini.", "{number} is no queue number here."),
    "queue.nobody_called": ("Belum ada nomor yang dipanggil di {counter}.", "No number is being called at {counter}."),
    "queue.calls_spent": (
        "{number} sudah dipanggil {calls} kali: catat tidak hadir atau panggil berikutnya.",
        "{number} was called {calls} times: set it aside or call the next.",
    ),
    "queue.not_set_aside": ("{number} tidak sedang dicatat tidak hadir.", "{number} is not set aside."),
    "queue.disabled": ("Antrian tidak diaktifkan.", "The queue is not enabled."),
    "dash.queue": ("Antrian hari ini", "Today's queue"),
    "dash.queue_row": (
        "{visitors} pengunjung · {served} dilayani · {absent} tidak hadir · tunggu median {median} · p90 {p90}",
        "{visitors} visitors · {served} served · {absent} not present · wait median {median} · p90 {p90}",
    ),
    "reg.answered": (
        "Dijawab langsung di loket (permintaan informasi)",
        "Answered at the counter (information request)",
    ),
    "reg.answered_hint": (
        "Isi jawaban yang diberikan: laporan dicatat dan langsung ditutup.",
        "Write the answer given: the case is recorded and closed at once.",
    ),
    "reg.answered_done": ("Dijawab di loket dan ditutup.", "Answered at the counter and closed."),
    "reg.answered_refused": ("Jawaban tidak dapat dicatat: {reason}", "The answer could not be recorded: {reason}"),
    "case.queue": ("Nomor antrian", "Queue number"),
    "case.queue_value": ("{number}, {counter}, menunggu {minutes} menit", "{number}, {counter}, waited {minutes} min"),
    "event.answered_at_desk": ("dijawab di loket", "answered at the counter"),
    # dashboard
    "dash.title": ("Dasbor", "Dashboard"),
    "dash.open_unit": ("Laporan terbuka per unit", "Open cases per unit"),
    "dash.open_channel": ("Laporan terbuka per kanal", "Open cases per channel"),
    "dash.overdue": ("Lewat batas waktu", "Overdue"),
    "dash.overdue_none": ("Tidak ada yang terlambat.", "Nothing is overdue."),
    "dash.met": ("Batas waktu terpenuhi bulan ini", "Deadlines met this month"),
    "dash.met_value": ("{met} dari {total}", "{met} of {total}"),
    "dash.skm": ("Indeks Kepuasan Masyarakat (IKM)", "Satisfaction index (IKM)"),
    "dash.skm_none": ("Belum ada jawaban survei.", "No survey answers yet."),
    "dash.skm_value": ("{value} (mutu {grade})", "{value} (grade {grade})"),
    "dash.health": ("Kesehatan kanal", "Channel health"),
    "dash.last_inbound": ("Pesan masuk terakhir", "Last inbound"),
    "dash.never": ("belum pernah", "never"),
    "dash.ok": ("Baik", "OK"),
    "dash.bad": ("Bermasalah", "Problem"),
    "dash.count": ("Jumlah", "Count"),
    # registration
    "reg.walkin": ("Catat kunjungan langsung", "Register a walk-in visit"),
    "reg.letter": ("Catat surat atau faks masuk", "Register a letter or fax"),
    "reg.queue_number": ("Nomor antrean", "Queue number"),
    "reg.name": ("Nama pengunjung", "Visitor's name"),
    "reg.name_hint": ("Kosongkan untuk laporan anonim.", "Leave empty for an anonymous report."),
    "reg.nik": ("NIK (16 angka)", "NIK (16 digits)"),
    "reg.phone": ("Nomor HP", "Mobile number"),
    "reg.phone_hint": (
        "Tanda terima juga dikirim lewat WhatsApp atau SMS.",
        "The receipt also goes by WhatsApp or SMS.",
    ),
    "reg.email": ("Email", "Email"),
    "reg.email_hint": ("Tanda terima juga dikirim lewat email.", "The receipt also goes by email."),
    "reg.text": ("Isi laporan", "What they report or ask"),
    "reg.attach": ("Lampiran (pindaian, foto)", "Attachments (scans, photos)"),
    "reg.medium": ("Datang sebagai", "Came as"),
    "reg.medium.letter": ("Surat", "Letter"),
    "reg.medium.fax": ("Faks", "Fax"),
    "reg.agenda_number": ("Nomor agenda", "Agenda number"),
    "reg.sender": ("Pengirim", "Sender"),
    "reg.dated": ("Tanggal surat", "Letter's date"),
    "reg.subject": ("Perihal", "Subject"),
    "reg.submit": ("Catat dan buat tanda terima", "Register and make the receipt"),
    "reg.done": ("Tercatat dengan nomor tiket {tracking}.", "Registered as {tracking}."),
    "reg.receipt": ("Unduh tanda terima (PDF)", "Download the receipt (PDF)"),
    "reg.copy": ("Salinan tanda terima juga dikirim lewat {channel}.", "A copy of the receipt also goes by {channel}."),
    "reg.no_copy": (
        "Tidak ada kanal yang menjangkau pelapor: cetak dan serahkan tanda terimanya.",
        "No channel reaches the reporter: print the receipt and hand it over.",
    ),
    "reg.waiting": (
        "Tersimpan; nomor tiket menyusul saat pipeline memprosesnya. Kirim formulir yang sama lagi "
        "nanti untuk mencetak tanda terima.",
        "Stored; the tracking number comes when the pipeline takes it in. Submit the same form again "
        "later to print the receipt.",
    ),
    "reg.other_details": (
        "Nomor {key} sudah dipakai untuk pendaftaran lain; tidak ada yang diubah.",
        "{key} is registered already with other details; nothing was changed.",
    ),
    "reg.dead": ("Pendaftaran ditolak pipeline: {reason}", "The pipeline refused the registration: {reason}"),
    "reg.disabled": ("Kanal {channel} tidak diaktifkan di konfigurasi.", "The {channel} channel is not enabled."),
    "reg.too_big": ("Lampiran terlalu besar (paling besar {size}).", "The attachments are too big (at most {size})."),
    # errors
    "error.title": ("Tidak dapat diproses", "Cannot be done"),
    "error.not_found": ("Halaman atau laporan tidak ditemukan.", "No such page or case."),
    "error.forbidden": ("Peran Anda tidak boleh melakukan ini.", "Your role may not do this."),
    "error.bad_request": ("Permintaan tidak valid: {reason}", "Invalid request: {reason}"),
    "error.refused": ("Tindakan ditolak: {reason}", "Action refused: {reason}"),
    "error.unknown_action": ("Tindakan {action} tidak dikenal.", "There is no action {action}."),
    "error.bad_cursor": ("Penanda halaman tidak valid.", "The page marker is invalid."),
    "error.field": ("{field}: {reason}", "{field}: {reason}"),
}


def _check_catalogue() -> None:
    for key, pair in _CATALOGUE.items():
        if len(pair) != len(LANGUAGES) or not all(pair):
            raise ValueError(f"console/i18n.py: {key!r} needs a text in each of {LANGUAGES}")


_check_catalogue()


def keys() -> frozenset[str]:
    """Every key of the catalogue (for tests that look for untranslated ones)."""
    return frozenset(_CATALOGUE)


def choose(asked: str | None, cookie: str | None, officer_language: str | None, default: str = DEFAULT) -> str:
    """The page's language: what was asked, else the cookie, the officer's, the configured one."""
    for candidate in (asked, cookie, officer_language, default):
        if candidate in LANGUAGES:
            return candidate
    return DEFAULT


@dataclass(frozen=True, slots=True)
class Translator:
    """``t("key", name=...)`` in templates; ``t.code("status", "forwarded")`` for the procedure's codes."""

    language: str

    def __call__(self, key: str, /, **values: Any) -> str:
        pair = _CATALOGUE.get(key)
        if pair is None:
            return key
        text = pair[LANGUAGES.index(self.language)]
        return text.format(**values) if values else text

    def code(self, group: str, value: str | None) -> str:
        """The name of a status, kind, channel...; the code itself when it has none."""
        if value is None:
            return ""
        key = f"{group}.{value}"
        return self(key) if key in _CATALOGUE else value

    def time_left(self, left: timedelta) -> str:
        """The time left as officers say it ("3 hari lagi", "terlambat 2 jam"): its largest whole unit."""
        seconds = left.total_seconds()
        prefix = "left" if seconds >= 0 else "late"
        seconds = abs(seconds)
        if seconds >= 86_400:
            return self(f"{prefix}.days", n=int(seconds // 86_400))
        if seconds >= 3_600:
            return self(f"{prefix}.hours", n=int(seconds // 3_600))
        return self(f"{prefix}.minutes", n=max(int(seconds // 60), 1 if seconds else 0))


def translators() -> Mapping[str, Translator]:
    return {language: Translator(language) for language in LANGUAGES}
