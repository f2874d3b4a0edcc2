"""What triage decides on messages written for these tests, not taken from the gold file: the
misses people really write (harm described without being named, a wish for secrecy in everyday
words, money demanded under another name, English), negation, informal spellings, and the
degenerate messages (empty, only a tracking number). Each case goes through
:class:`triage.assessment.Assessor`, the decision the triage stage stores on the case.

The messages were written in three batches from the domain (``../shared/research/domain.md`` §4,
§6); each later batch was written after the rules for the earlier ones and scored before the
rules were generalised again (21/30, then 20/26: docs/triage.md), the honest measure of how the
rules carry over.
"""

from __future__ import annotations

import pytest

from config.routing import load_routing
from triage.assessment import Assessment, Assessor
from triage.evaluation import Row, message_of

HARM_WITHOUT_THE_WORD = [
    ("dosen pembimbing sy suka ngelus2 punggung sy pas bimbingan di ruangannya, sy risih bgt", "ppkpt", True),
    (
        "pas praktikum asdosnya berdiri di belakang sy terus tangannya ditaruh di pinggang sy, sy diem aja krn takut",
        "ppkpt",
        True,
    ),
    ("kating sering nempel2 dan ngerangkul sy padahal sy udh bilang ga mau", "ppkpt", True),
    ("dosen wali minta sy kirim foto pake baju tidur, katanya buat 'dokumentasi'", "ppkpt", True),
    ("bukan pelecehan sih mungkin, tapi dia selalu megang paha sy kalau duduk sebelahan", "ppkpt", True),
    (
        "My thesis supervisor keeps touching my shoulder and back during meetings in his office. "
        "I feel very uncomfortable.",
        "ppkpt",
        True,
    ),
    ("A senior in my dorm sent me explicit pictures and asked me to send mine", "ppkpt", True),
    ("staf lab sering ngeliatin dada sy dan ngomong jorok soal badan sy", "ppkpt", True),
    ("ada yg ngerekam mahasiswi ganti baju di ruang ganti gedung olahraga", "ppkpt", True),
    ("dia maksa sy buat nemenin dia di mobil malem2, terus nyium sy", "ppkpt", True),
    ("pak satpam di pos gerbang belakang sering godain mahasiswi yg lewat, siul2 dan manggil cantik", "ppkpt", True),
    ("dosen itu ngajak sy ketemuan di hotel buat 'bahas nilai'", "ppkpt", True),
    ("ada laki2 yg suka mamerin alat vitalnya di deket halte kampus", "ppkpt", True),
    ("He pressed himself against me in the crowded lift and I could not move away", "ppkpt", True),
]
SECRECY_IN_EVERYDAY_WORDS = [
    (
        "kak sy mau cerita tp jangan sampai ketahuan ya, staf loket prodi sering ga ada di tempat jam kerja",
        "kepegawaian",
        True,
    ),
    ("tolong cukup admin aja yg tau ya, dosen matkul statistika udah 4 minggu ga masuk kelas", "akademik", True),
    ("jangan bawa2 nama sy ya kak, wifi asrama blok C mati terus dari senin", "tik", True),
    (
        "please don't tell anyone it was me, the toilet on the 2nd floor of building E has been broken for weeks",
        "sarpras",
        True,
    ),
    ("I don't want my name on this. My scholarship money has not arrived for two months.", "keuangan", True),
    ("sy takut dibales sama dosennya kalau ketahuan sy yg lapor, nilai sy ditahan tanpa alasan", "akademik", True),
    (
        "kalo boleh identitas sy ga usah ditulis ya kak, dosen statistika sering batalin kelas mendadak",
        "akademik",
        True,
    ),
    ("aku ga enak kalau orangnya tau aku yg ngadu, tp petugas perpus sering marah2 ke mahasiswa", "kepegawaian", True),
    (
        "Please keep this between you and me: the projector in room B-105 has been broken since last week",
        "sarpras",
        True,
    ),
    ("I would rather stay anonymous. The canteen is very dirty and there are rats.", "sarpras", True),
]
MONEY_UNDER_ANOTHER_NAME = [
    ("mau legalisir ijazah di fakultas diminta 'uang administrasi' 50rb, ga dikasih kuitansi", "spi", True),
    ("petugas di bagian akademik bilang kalau mau surat aktif kuliah cepat jadi harus kasih uang jasa", "spi", True),
    ("dosen penguji minta dibeliin oleh-oleh dan ditraktir makan biar sidang sy di acc", "spi", True),
    (
        "tiap mahasiswa bimbingan diminta 'sumbangan sukarela' 200rb ke rekening dosen, katanya buat lab, tp wajib",
        "spi",
        True,
    ),
    (
        "The lab coordinator asked each of us for a 'processing fee' of 100k in cash to sign our practicum reports",
        "spi",
        True,
    ),
    ("My lecturer said I could pass if I give him a 'gift'. He asked for 500k.", "spi", True),
    ("kalau mau nilai keluar harus bayar 'uang praktikum' 75rb ke asdos, tanpa bukti bayar", "spi", True),
    ("petugas asrama minta 'uang kebersihan' 30rb per bulan ke rekening dia, katanya udah biasa", "spi", True),
    ("biar proposal TA cepat di acc, kami disuruh patungan beliin dosen hp baru", "spi", True),
    (
        "The staff at the registrar said I need to pay 'administration money' directly to him to get my diploma faster",
        "spi",
        True,
    ),
    ("panitia wisuda narik 'dana kenang-kenangan' 250rb per orang, wajib, duitnya ke rekening pribadi", "spi", True),
]
NEGATION = [
    ("tidak ada pungli kok di loket parkir, cuma antriannya panjang banget", "sarpras", False),
    ("min sy mau klarifikasi, bukan pungli ya, biaya legalisir memang resmi ada di web", "akademik", False),
    ("There was no bribe involved, I just want to know when my transcript will be ready", "akademik", False),
    ("ga ada pelecehan kok kak, sy cuma mau nanya jadwal konseling", "kemahasiswaan", False),
    ("saya pastikan tidak ada suap dalam proses pengadaan ini, saya hanya tanya prosedur tender", "spi", True),
    ("No one harassed me, I just want to know the hours of the counselling service", "kemahasiswaan", False),
]
ENGLISH = [
    ("The wifi in the library keeps disconnecting every few minutes", "tik", False),
    ("When is the deadline for paying the tuition fee this semester?", "keuangan", False),
    ("The air conditioner in room E-203 is broken and it is very hot", "sarpras", False),
    ("How do I request a copy of my transcript?", "akademik", False),
    ("I can't log in to SIAKAD since yesterday", "tik", False),
    ("Is there a scholarship for students from outside Kalimantan?", "kemahasiswaan", False),
    ("The e-learning page shows error 500 whenever I try to upload my assignment", "tik", False),
    ("My salary as a contract lecturer has been late for two months", "kepegawaian", False),
]
INFORMAL = [
    ("min krs sy ga bs diisi, mata kuliahnya ga muncul2", "akademik", False),
    ("UKT sy kok naik golongan, pdhl penghasilan ortu turun", "keuangan", False),
    ("ac kls E-301 mati trs min, panas bgt", "sarpras", False),
    ("tolonggg wifi asrama lemot parah", "tik", False),
    ("kak lampu di lorong lantai 3 gedung F mati semua, gelap bgt kalo malem", "sarpras", False),
    ("nilai UTS kalkulus sy blm diinput dosen padahal udh 3 minggu", "akademik", False),
    ("VA pembayaran UKT sy ga bisa dibayar, muncul tulisan expired", "keuangan", False),
    ("saran aja min, tambahin tempat sampah di sekitar kantin", "sarpras", False),
    ("min, mau nanya jam buka ULT hari sabtu", "frontdesk", False),
    ("ULT-2611-0042", "frontdesk", False),
    ("email kampus sy kena hack, ada yg kirim link aneh pake akun sy", "tik", False),
    ("kating maksa maba push up di lapangan sampe ada yg pingsan", "kemahasiswaan", False),
    # a photo spread to shame a classmate is bullying; an intimate one is the task force's (gold README)
    ("temen sekelas sy nyebarin foto sy yg lagi tidur di grup angkatan, sy malu bgt", "kemahasiswaan", False),
    ("temen sekelas sy nyebarin foto sy yg lagi ganti baju di grup angkatan", "ppkpt", True),
    ("sy mau ngajuin cuti akademik semester depan, syaratnya apa aja?", "akademik", False),
    ("tolong dicek, beasiswa KIP sy bulan ini cuma masuk setengah", "keuangan", False),
]


@pytest.fixture(scope="module")
def assessor() -> Assessor:
    return Assessor(load_routing(), ["darurat.risiko_bunuh_diri"])


def assess(assessor: Assessor, text: str) -> Assessment:
    return assessor.assess(message_of(Row("t", text, "whatsapp", "Rina", {})))


def check(assessor: Assessor, text: str, unit: str, confidential: bool) -> None:
    found = assess(assessor, text)
    assert (found.unit, found.confidential) == (unit, confidential), found.reasons


@pytest.mark.parametrize(("text", "unit", "confidential"), HARM_WITHOUT_THE_WORD)
def test_harm_described_without_being_named_goes_to_the_task_force(
    assessor: Assessor, text: str, unit: str, confidential: bool
) -> None:
    check(assessor, text, unit, confidential)


@pytest.mark.parametrize(("text", "unit", "confidential"), SECRECY_IN_EVERYDAY_WORDS)
def test_a_wish_for_secrecy_in_everyday_words_keeps_the_case_confidential(
    assessor: Assessor, text: str, unit: str, confidential: bool
) -> None:
    check(assessor, text, unit, confidential)
    assert assess(assessor, text).anonymous, "the reporter asked: their name is hidden from the unit too"


@pytest.mark.parametrize(("text", "unit", "confidential"), MONEY_UNDER_ANOTHER_NAME)
def test_money_demanded_under_another_name_goes_to_internal_audit(
    assessor: Assessor, text: str, unit: str, confidential: bool
) -> None:
    check(assessor, text, unit, confidential)


@pytest.mark.parametrize(("text", "unit", "confidential"), NEGATION)
def test_a_negated_accusation_accuses_no_one(assessor: Assessor, text: str, unit: str, confidential: bool) -> None:
    check(assessor, text, unit, confidential)
    assert any(reason.startswith("negasi: ") for reason in assess(assessor, text).reasons)


def test_tidak_ada_pungli_kok_accuses_no_one_and_says_why(assessor: Assessor) -> None:
    found = assess(assessor, "tidak ada pungli kok, cuma antrian loket parkir panjang banget")
    assert (found.unit, found.confidential) == ("sarpras", False)
    assert "negasi: tidak ada pungli" in found.reasons


def test_touching_is_the_task_force_s_whether_or_not_it_says_pelecehan(assessor: Assessor) -> None:
    named = assess(assessor, "dosen itu melakukan pelecehan, dia megang paha saya waktu bimbingan")
    denied = assess(assessor, "bukan pelecehan sih, tapi dia megang paha saya waktu bimbingan")
    unnamed = assess(assessor, "dosen itu megang paha saya waktu bimbingan")
    for found in (named, denied, unnamed):
        assert (found.unit, found.confidential, found.priority) == ("ppkpt", True, "high"), found.reasons
    assert "negasi: bukan pelecehan" in denied.reasons


@pytest.mark.parametrize(
    "text",
    [
        "bukan hanya pungli, petugas loket juga minta uang rokok",
        "tidak hanya sekali, dia berkali-kali meraba paha saya",
        "He did not stop touching me even when I said no",
        # a rhetorical "isn't it": the first mention is not denied by the question after it
        "mobil dinas kampus dipakai jalan-jalan keluarga ke pantai. bukannya mobil dinas ga boleh buat pribadi?",
    ],
)
def test_phrases_that_look_like_negation_but_are_not(assessor: Assessor, text: str) -> None:
    assert assess(assessor, text).confidential


@pytest.mark.parametrize(("text", "unit", "confidential"), ENGLISH)
def test_english_messages(assessor: Assessor, text: str, unit: str, confidential: bool) -> None:
    check(assessor, text, unit, confidential)
    assert assess(assessor, text).language == "en"


@pytest.mark.parametrize(("text", "unit", "confidential"), INFORMAL)
def test_informal_spellings_and_abbreviations(assessor: Assessor, text: str, unit: str, confidential: bool) -> None:
    check(assessor, text, unit, confidential)


@pytest.mark.parametrize("text", ["", "   ", "🙏🙏", "\n\t"])
def test_an_empty_message_is_an_incomplete_question_at_the_front_desk(assessor: Assessor, text: str) -> None:
    found = assess(assessor, text)
    assert (found.kind, found.unit, found.confidential, found.complete) == (
        "permintaan_informasi",
        "frontdesk",
        False,
        False,
    )
    assert found.missing == ("what",) and found.reasons == ()


@pytest.mark.parametrize("text", ["ULT-26-00042-8", "ult 26 00042 8", "min ULT-26-00042-8 gmn ya?", "ULT-2611-0042"])
def test_a_message_that_is_only_a_tracking_number_asks_after_its_case(assessor: Assessor, text: str) -> None:
    found = assess(assessor, text)
    assert (found.kind, found.unit, found.confidential, found.complete) == (
        "permintaan_informasi",
        "frontdesk",
        False,
        True,
    )
    assert found.reasons[0].startswith("nomor_tiket: ")


def test_a_tracking_number_with_a_matter_is_classified_by_the_matter(assessor: Assessor) -> None:
    found = assess(assessor, "ULT-26-00042-8 AC ruang E-203 belum diperbaiki juga")
    assert (found.kind, found.unit) == ("pengaduan", "sarpras")


def test_reasons_name_the_rule_and_the_words(assessor: Assessor) -> None:
    found = assess(assessor, "min UKT sy semester ini naik jadi golongan 6, padahal gaji ortu turun")
    assert found.reasons[0] == "keuangan.ukt: ukt"
    assert len(found.reasons) == len(found.classification.rules)
    assert all(
        reason.split(": ", 1)[0] == rule for reason, rule in zip(found.reasons, found.classification.rules, strict=True)
    )


def test_self_harm_is_urgent_and_confidential(assessor: Assessor) -> None:
    found = assess(assessor, "aku capek bgt sama kuliah, kadang pengen mati aja")
    assert (found.urgent, found.confidential, found.priority) == (True, True, "high")


def test_a_short_question_that_says_what_it_asks_is_complete(assessor: Assessor) -> None:
    assert assess(assessor, "Kapan jadwal wisuda?").complete
    assert assess(assessor, "syarat cuti akademik apa ya?").complete
    vague = assess(assessor, "kak mau tanya soal wisuda")
    assert not vague.complete and vague.missing == ("what",)


THIRD_BATCH = [
    ("kak nilai kuis 2 sy di e-learning kok 0 padahal udh submit tepat waktu", "akademik", False),
    ("dosen pengampu struktur data udah 3x ga ngajar tanpa kabar", "akademik", False),
    ("gimana cara dapet surat keterangan lulus buat daftar kerja?", "akademik", False),
    ("min tagihan UKT sy dobel di portal pembayaran, mohon dicek", "keuangan", False),
    ("beasiswa bank indonesia kapan pengumuman seleksinya?", "kemahasiswaan", False),
    ("sy mau ajukan banding UKT karena ayah sy kena PHK, berkasnya apa aja?", "keuangan", False),
    ("kursi di ruang kuliah B201 banyak yang patah, bahaya", "sarpras", False),
    ("keran air di musala gedung D bocor terus, airnya ngalir sampe lantai", "sarpras", False),
    ("bis kampus jam 7 pagi selalu penuh, banyak yg ketinggalan", "sarpras", False),
    ("lift gedung rektorat macet sama orang di dalemnya tadi siang", "sarpras", False),
    ("akun SSO sy kekunci setelah ganti password, ga bisa buka email kampus", "tik", False),
    ("wifi di perpustakaan lantai 2 ga bisa konek sama sekali dari pagi", "tik", False),
    ("ada web palsu yang mirip siakad minta login, hati2", "tik", False),
    ("pegawai TU fakultas sering telat buka loket, jam 9 baru datang", "kepegawaian", False),
    ("honor dosen luar biasa semester lalu belum dibayar sampai sekarang", "kepegawaian", False),
    ("UKM musik butuh ruang latihan, bisa pinjam aula tiap jumat?", "sarpras", False),
    ("pendaftaran lomba debat nasional lewat kemahasiswaan atau langsung?", "kemahasiswaan", False),
    ("halo, saya dari SMA 2 Balikpapan, mau tanya jalur masuk ITK", "frontdesk", False),
    ("senior di himpunan maksa maba ikut kegiatan sampe jam 2 pagi dan bentak2", "kemahasiswaan", False),
    ("temen sekamar sy di asrama sering ngancem mau mukul kalau sy ga nurut", "kemahasiswaan", False),
    ("kak dosen itu minta sy dateng ke kosnya buat 'bimbingan' jam 10 malem", "ppkpt", True),
    ("My lab partner keeps sending me messages about how I look and wants to meet alone at night", "ppkpt", True),
    ("staf keuangan bilang kalau mau cicilan disetujui harus ngasih 'uang terima kasih' dulu", "spi", True),
    ("pengadaan laptop lab kayaknya di-mark up, harganya 2x harga pasaran", "spi", True),
    ("tolong rahasiakan identitas saya. petugas parkir kampus narik 5rb tiap motor tanpa karcis", "spi", True),
    ("kak sy ga mau ada yg tau kalau sy yg cerita, tp asdos kalkulus sering ngasih nilai seenaknya", "akademik", True),
]
"""Written after the rules for the first two batches; 20/26 before the rules were generalised again."""


@pytest.mark.parametrize(("text", "unit", "confidential"), THIRD_BATCH)
def test_the_third_batch(assessor: Assessor, text: str, unit: str, confidential: bool) -> None:
    check(assessor, text, unit, confidential)


def test_fear_of_a_person_keeps_the_case_confidential_without_moving_it(assessor: Assessor) -> None:
    found = assess(assessor, "asdos kalkulus bikin sy takut, tiap praktikum dia berdiri deket bgt")
    assert found.confidential and found.unit == "akademik"
    assert any(reason.startswith("waspada.takut_pada_orang: ") for reason in found.reasons)
    assert not assess(assessor, "takut telat bayar UKT, VA sy belum muncul").confidential


ROUND_FIVE = [
    # harm described by what was done
    (
        "penjaga kos kampus suka berdiri di balik dinding kamar mandi pas kami mandi, ada lubang di atasnya",
        "ppkpt",
        True,
    ),
    ("pak pemilik rumah tempat kami KKN pernah masuk ke kamar kami tengah malam tanpa izin", "ppkpt", True),
    ("senior ngirim foto2 bugil ke japri sy jam 1 malam, sy ga pernah minta", "ppkpt", True),
    ("pas malam keakraban kami disuruh lepas baju sampai tinggal pakaian dalam, katanya tradisi", "ppkpt", True),
    ("asdos itu memeluk sy dari belakang waktu sy sendirian di lab", "ppkpt", True),
    ("dosen wali ngelus2 tangan sy tiap perwalian, trs kasih hadiah jam tangan", "ppkpt", True),
    # secrecy and the fear of losing one's place
    (
        "gaji honorer kami telat 3 bulan. mohon laporan ini tidak diteruskan ke kepala bagian dengan nama saya",
        "kepegawaian",
        True,
    ),
    (
        "sy khawatir kontrak sy tidak diperpanjang kalau ketahuan sy yg ngadu soal lembur yg ga dibayar",
        "kepegawaian",
        True,
    ),
    # money and papers
    (
        "soal UTS statistika minggu lalu ternyata sama persis dengan file di grup, kabarnya dibeli dari orang prodi",
        "spi",
        True,
    ),
    ("sy disuruh tanda tangan kwitansi kosong buat honor kegiatan yg sy ga ikut", "spi", True),
    ("nota makan rapat di LPJ itu dibuat sendiri sama bendahara, rumah makannya aja udah tutup", "spi", True),
    # round 7
    ("Penelepon enggan menyebut nama; lift gedung rektorat macet sejak kemarin", "sarpras", True),
    ("asisten lab yang baru diangkat itu keponakan ketua jurusan, padahal tidak ikut tes", "spi", True),
    ("ada titipan 3 nama dari pimpinan, panitia disuruh meloloskan walau nilainya kurang", "spi", True),
    ("ada akun palsu ngirim foto sy yg diedit jadi ga pantes ke teman2 sekelas", "ppkpt", True),
    # round 9
    ("di eskalator gedung B ada cowok ngarahin hp ke bawah rok mahasiswi", "ppkpt", True),
    ("My lab supervisor keeps sending me photos of himself without a shirt late at night", "ppkpt", True),  # round 10
    ("dosen wali kirim foto dirinya ga pake baju ke WA sy tengah malam", "ppkpt", True),  # round 11
    ("pendamping lapangan sering masuk kamar posko cewek malem2 tanpa ketuk", "ppkpt", True),
    ("dosen minta dikirimin foto yang lebih santai, katanya buat nilai presentasi", "ppkpt", True),
]
NOT_A_DISCLOSURE = [
    ("akun SSO sy terkunci, waktu reset ditanya pertanyaan rahasia tp sy lupa jawabannya", "tik", False),
    ("Could you send my confidential transcript to the University of Osaka? How long does it take?", "akademik", False),
    ("boleh ga pakai laptop pribadi buat ujian online?", "akademik", False),
    ("satpam asrama sy paham aturannya, usul aja ada bel di gerbang buat yg pulang malam", "sarpras", False),
    (
        "Penelepon menanyakan dasar biaya legalisir; ia menegaskan tidak menuduh adanya pungutan liar.",
        "akademik",
        False,
    ),  # round 7
    (
        "banyak yg ngira biaya wisuda itu pungli, padahal tidak ada pungli kok, semua lewat VA. "
        "saran: rinciannya dipajang",
        "keuangan",
        False,
    ),
    ("titipan berkas legalisir sy di loket akademik bisa diambil kapan?", "akademik", False),
    # round 8
    ("banyak sampah plastik berserakan di bawah meja kantin tiap siang", "sarpras", False),
    ("sy sudah bayar biaya wisuda di teller bank, slip setoran ada, tp nama sy belum terdaftar", "keuangan", False),
    ("kursi kuliah tanpa meja lipat, kami harus menulis di pangkuan waktu ujian", "sarpras", False),
    # round 9
    ("biaya praktikum 200rb itu resmi kah? tmn sy bilang itu pungli, sy mau mastiin sebelum bayar", "keuangan", False),
    ("file berisi NIK dan nomor HP penerima beasiswa beredar di grup angkatan", "tik", False),
    ("jawaban kuis di e-learning ke submit sendiri padahal waktunya masih ada, nilai jadi 0", "tik", False),
    (
        "Dear ULT, I am a school counsellor in Balikpapan. Can our students join a campus tour?",
        "frontdesk",
        False,
    ),  # round 10
    ("apakah pengambilan SKL dikenakan biaya administrasi? kata teman ada", "akademik", False),
    ("petugas perpustakaan lantai 3 ketus sekali waktu menegur kami", "kepegawaian", False),
]
"""Written for round 5 from the misses of blind batches b7-b8 (docs/triage.md): the words people
use, not the batches' rows."""


@pytest.mark.parametrize(("text", "unit", "confidential"), ROUND_FIVE)
def test_round_five_disclosures(assessor: Assessor, text: str, unit: str, confidential: bool) -> None:
    check(assessor, text, unit, confidential)


@pytest.mark.parametrize(("text", "unit", "confidential"), NOT_A_DISCLOSURE)
def test_words_of_secrecy_or_money_in_another_sense_keep_a_case_open(
    assessor: Assessor, text: str, unit: str, confidential: bool
) -> None:
    check(assessor, text, unit, confidential)
