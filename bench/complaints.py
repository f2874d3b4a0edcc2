"""Synthetic but realistic web-form submissions for the benchmarks.

Indonesian campus complaints (UKT, SIAKAD, a broken AC, KRS, grades, scholarships, Wi-Fi, ...)
assembled from sentence pools, 200-800 characters of text each, with a seeded RNG so that a run
can be repeated exactly. Each submission comes from a reporter of its own (see ``ComplaintFactory``).
"""

from __future__ import annotations

import random
from typing import Any

import orjson

FIRST = [
    "Budi",
    "Siti",
    "Andi",
    "Dewi",
    "Rizky",
    "Nur",
    "Agus",
    "Putri",
    "Fajar",
    "Ayu",
    "Dimas",
    "Rina",
    "Yusuf",
    "Indah",
    "Hendra",
    "Wulan",
    "Bayu",
    "Fitri",
    "Arif",
    "Lestari",
    "Gilang",
    "Nabila",
    "Teguh",
    "Sari",
    "Ilham",
    "Maya",
    "Reza",
    "Anisa",
    "Eko",
    "Kartika",
    "Muhammad",
    "Aulia",
]
LAST = [
    "Santoso",
    "Rahmawati",
    "Pratama",
    "Saputra",
    "Hidayat",
    "Lestari",
    "Nugroho",
    "Kurniawan",
    "Wijaya",
    "Setiawan",
    "Handayani",
    "Syahputra",
    "Ramadhan",
    "Sitompul",
    "Pangaribuan",
    "Daeng",
    "Mappasessu",
    "Tanjung",
    "Siregar",
    "Wibowo",
    "Utami",
    "Permana",
    "Hasibuan",
    "Gunawan",
]
PRODI = [
    "Teknik Sipil",
    "Teknik Mesin",
    "Teknik Elektro",
    "Informatika",
    "Sistem Informasi",
    "Manajemen",
    "Akuntansi",
    "Ilmu Hukum",
    "Pendidikan Bahasa Inggris",
    "Teknik Kimia",
    "Arsitektur",
    "Kesehatan Masyarakat",
]
GEDUNG = ["Gedung A", "Gedung B", "Gedung C", "Gedung Kuliah Bersama", "Gedung Rektorat", "Gedung Laboratorium Terpadu"]

OPENING = [
    "Selamat pagi Bapak/Ibu, saya {name}, mahasiswa {prodi} angkatan {year}.",
    "Assalamualaikum, perkenalkan saya {name} dari prodi {prodi} semester {sem}.",
    "Yth. Unit Layanan Terpadu, saya {name} ingin menyampaikan keluhan.",
    "Selamat siang, mohon maaf mengganggu. Saya {name}, mahasiswa {prodi}.",
    "Permisi admin, saya {name} (NIM {nim}).",
    "Dengan hormat, saya {name}, mahasiswa semester {sem} {prodi}, ingin melapor.",
]

TOPICS: dict[str, dict[str, list[str]]] = {
    "ukt": {
        "subject": ["Keberatan UKT semester ini", "Banding UKT", "UKT naik golongan", "Tagihan UKT ganda"],
        "body": [
            "UKT saya semester ini naik dari golongan {g1} ke golongan {g2}, padahal penghasilan orang tua saya "
            "justru turun sejak tahun lalu.",
            "Ayah saya sudah pensiun dan sekarang hanya bekerja serabutan, jadi kami sangat keberatan dengan besaran "
            "UKT Rp{ukt} per semester.",
            "Saya sudah mengunggah slip gaji dan surat keterangan tidak mampu dari kelurahan, tetapi status banding "
            "UKT saya masih belum diproses.",
            "Di portal pembayaran tagihan UKT saya muncul dua kali, dan saya takut kalau tidak dibayar akan dianggap "
            "cuti akademik.",
            "Batas pembayaran UKT tinggal {days} hari lagi, sedangkan hasil verifikasi keringanan belum juga keluar.",
            "Saya sudah membayar UKT lewat bank pada tanggal {day} tetapi di sistem status saya masih belum lunas.",
        ],
        "ask": [
            "Mohon UKT saya ditinjau ulang dan diturunkan sesuai kemampuan keluarga.",
            "Mohon informasi kapan hasil banding UKT diumumkan dan ke mana saya harus menyerahkan berkas tambahan.",
            "Tolong dicek pembayaran saya agar status UKT bisa berubah menjadi lunas.",
        ],
    },
    "siakad": {
        "subject": [
            "SIAKAD error saat isi KRS",
            "Tidak bisa login SIAKAD",
            "Nilai belum muncul di SIAKAD",
            "KRS tidak tersimpan",
        ],
        "body": [
            "Sejak kemarin saya tidak bisa login ke SIAKAD, selalu muncul pesan password salah padahal sudah direset.",
            "Saat mengisi KRS di SIAKAD muncul error 500 dan mata kuliah yang saya pilih hilang semua setelah "
            "disimpan.",
            "Nilai mata kuliah {mk} belum muncul di SIAKAD padahal teman sekelas saya nilainya sudah keluar semua.",
            "SIAKAD sangat lambat menjelang batas akhir pengisian KRS, halaman loading terus sampai lebih dari lima "
            "menit.",
            "KRS saya sudah disetujui dosen wali tetapi di SIAKAD statusnya masih draft sehingga tidak bisa mencetak "
            "kartu ujian.",
            "Data IPK di SIAKAD saya tidak sesuai dengan transkrip sementara yang dibagikan prodi.",
        ],
        "ask": [
            "Mohon bantuan agar akun SIAKAD saya bisa dipulihkan sebelum batas KRS.",
            "Mohon SIAKAD diperbaiki dan batas pengisian KRS diperpanjang.",
            "Tolong nilai saya segera diinput agar bisa mendaftar semester pendek.",
        ],
    },
    "ac": {
        "subject": ["AC rusak di ruang kuliah", "Ruang kelas panas, AC mati", "AC bocor", "Fasilitas kelas rusak"],
        "body": [
            "AC di ruang {room} {gedung} sudah rusak sejak dua minggu lalu sehingga kelas sangat panas dan pengap.",
            "AC di ruang {room} meneteskan air ke meja mahasiswa, lantainya licin dan sudah ada teman yang terpeleset.",
            "Kami sudah melapor ke petugas gedung tetapi AC belum juga diperbaiki, padahal ruangan dipakai kuliah "
            "dari pagi sampai sore.",
            "Selain AC rusak, proyektor di ruang {room} juga sering mati dan beberapa kursi patah.",
            "Suhu di dalam kelas siang hari bisa sangat panas, banyak mahasiswa pusing dan tidak bisa konsentrasi "
            "saat ujian.",
        ],
        "ask": [
            "Mohon AC segera diperbaiki atau kami dipindahkan ke ruangan lain.",
            "Mohon ditindaklanjuti oleh bagian sarana dan prasarana secepatnya.",
        ],
    },
    "beasiswa": {
        "subject": ["Dana KIP-K belum cair", "Beasiswa belum diterima", "Pertanyaan beasiswa PPA"],
        "body": [
            "Dana KIP Kuliah untuk semester ini belum cair padahal teman-teman dari fakultas lain sudah menerima.",
            "Nama saya tidak ada di daftar penerima beasiswa padahal sudah dinyatakan lolos seleksi berkas.",
            "Saya butuh biaya hidup untuk kos dan transportasi, sementara pencairan beasiswa terus ditunda tanpa "
            "kejelasan.",
        ],
        "ask": [
            "Mohon informasi jadwal pencairan dan siapa yang bisa saya hubungi.",
            "Mohon kejelasan status beasiswa saya.",
        ],
    },
    "wifi": {
        "subject": ["WiFi kampus lambat", "Internet perpustakaan mati", "Akun hotspot tidak bisa dipakai"],
        "body": [
            "WiFi di perpustakaan dan {gedung} sangat lambat, tidak bisa dipakai untuk membuka e-learning atau "
            "mengunggah tugas.",
            "Akun hotspot kampus saya tiba-tiba tidak bisa login sejak pergantian semester.",
            "Saat ujian daring koneksi internet kampus terputus berkali-kali sehingga jawaban saya tidak terkirim.",
        ],
        "ask": ["Mohon jaringan diperbaiki.", "Mohon akun saya diaktifkan kembali."],
    },
    "dokumen": {
        "subject": ["Legalisir ijazah lama", "Surat keterangan aktif kuliah", "Transkrip belum jadi"],
        "body": [
            "Saya mengajukan legalisir ijazah sejak {days} hari lalu tetapi belum selesai, padahal dibutuhkan untuk "
            "melamar CPNS.",
            "Pengurusan surat keterangan aktif kuliah untuk tunjangan orang tua sudah seminggu belum ditandatangani.",
            "Transkrip nilai untuk wisuda belum dicetak, sementara jadwal yudisium sudah dekat.",
        ],
        "ask": ["Mohon dipercepat prosesnya.", "Mohon informasi berapa lama lagi dokumen saya selesai."],
    },
    "fasilitas": {
        "subject": ["Toilet kotor dan air mati", "Parkir motor penuh", "Lampu jalan kampus mati"],
        "body": [
            "Toilet di lantai {floor} {gedung} kotor, airnya sering mati dan pintunya tidak bisa dikunci.",
            "Lahan parkir motor selalu penuh sejak pagi, banyak motor diparkir di bahu jalan dan sering kena tilang.",
            "Lampu jalan dari gerbang belakang sampai asrama mati sehingga jalan sangat gelap di malam hari dan rawan.",
        ],
        "ask": ["Mohon segera ditindaklanjuti.", "Mohon diperbaiki demi kenyamanan bersama."],
    },
    "informasi": {
        "subject": ["Pertanyaan jadwal wisuda", "Informasi pindah prodi", "Syarat cuti akademik"],
        "body": [
            "Saya ingin menanyakan jadwal pendaftaran wisuda periode berikutnya dan syarat berkas yang harus "
            "disiapkan.",
            "Bagaimana prosedur pindah program studi di dalam fakultas yang sama, dan apakah UKT ikut berubah?",
            "Apa saja syarat mengajukan cuti akademik satu semester karena alasan kesehatan?",
        ],
        "ask": ["Terima kasih atas informasinya.", "Mohon dijawab melalui email saya."],
    },
}
TOPIC_WEIGHTS = {
    "ukt": 22,
    "siakad": 22,
    "ac": 18,
    "beasiswa": 8,
    "wifi": 8,
    "dokumen": 8,
    "fasilitas": 8,
    "informasi": 6,
}
CLOSING = [
    "Terima kasih.",
    "Atas perhatiannya saya ucapkan terima kasih.",
    "Terima kasih, Bapak/Ibu.",
    "Mohon maaf jika ada kata yang kurang berkenan.",
    "Saya tunggu tindak lanjutnya.",
]
FILLER = [
    "Hal ini sangat mengganggu kegiatan belajar kami.",
    "Teman-teman saya juga mengalami hal yang sama.",
    "Saya sudah mencoba menghubungi bagian terkait lewat telepon tetapi tidak diangkat.",
    "Masalah ini sudah terjadi sejak awal semester.",
    "Saya khawatir hal ini akan berdampak pada nilai dan kelulusan saya.",
    "Sebelumnya saya juga sudah mengirim email tetapi belum ada balasan.",
    "Saya berharap kampus bisa lebih responsif terhadap keluhan mahasiswa.",
]
MK = [
    "Kalkulus II",
    "Struktur Data",
    "Mekanika Tanah",
    "Statistika",
    "Hukum Perdata",
    "Akuntansi Biaya",
    "Fisika Dasar",
]

MIN_TEXT, MAX_TEXT = 200, 800


class ComplaintFactory:
    """Makes submissions, each from a reporter of its own.

    A reporter's second message within ``[triage] thread_window_minutes`` joins their open case
    and gets no receipt of its own, so a shared pool of reporters would leave the benchmark
    waiting for receipts the pipeline rightly never sends: this measures new reports.
    """

    def __init__(self, seed: int = 1) -> None:
        self.rng = random.Random(seed)
        self.made = 0
        self.topics = list(TOPIC_WEIGHTS)
        self.weights = [TOPIC_WEIGHTS[t] for t in self.topics]

    def _person(self, i: int) -> dict[str, Any]:
        rng = self.rng
        first, last = rng.choice(FIRST), rng.choice(LAST)
        person: dict[str, Any] = {"name": f"{first} {last}"}
        contact = rng.random()
        if contact < 0.7:
            person["email"] = f"{first.lower()}.{last.lower()}{i}@mhs.kampus.ac.id"
        if contact > 0.4:
            person["phone"] = f"08{rng.choice('1235')}{rng.randrange(10**8, 10**9)}"
        return person

    def _fill(self, template: str) -> str:
        rng = self.rng
        return template.format(
            name="{name}",
            prodi=rng.choice(PRODI),
            year=rng.randrange(2019, 2025),
            sem=rng.randrange(1, 9),
            nim=rng.randrange(10**9, 10**10),
            g1=rng.randrange(1, 4),
            g2=rng.randrange(5, 8),
            ukt=f"{rng.randrange(24, 95) * 100_000:,}".replace(",", "."),
            days=rng.randrange(3, 30),
            day=rng.randrange(1, 28),
            mk=rng.choice(MK),
            room=f"{rng.choice('ABCD')}{rng.randrange(1, 5)}.{rng.randrange(1, 12):02d}",
            gedung=rng.choice(GEDUNG),
            floor=rng.randrange(1, 5),
        )

    def text(self, topic: str, name: str) -> str:
        rng = self.rng
        target = rng.randrange(MIN_TEXT, MAX_TEXT + 1)
        pool = TOPICS[topic]
        parts = [self._fill(rng.choice(OPENING)).replace("{name}", name)]
        body = pool["body"][:]
        rng.shuffle(body)
        extra = FILLER[:]
        rng.shuffle(extra)
        candidates = [self._fill(s) for s in body] + extra
        # a second topic now and then, as real complaints wander
        if rng.random() < 0.25:
            other = rng.choice([t for t in self.topics if t != topic])
            candidates.insert(1, self._fill(rng.choice(TOPICS[other]["body"])))
        ask = self._fill(rng.choice(pool["ask"])) + " " + rng.choice(CLOSING)
        for sentence in candidates:
            if len(" ".join(parts)) + len(sentence) + len(ask) + 2 > target:
                break
            parts.append(sentence)
        parts.append(ask)
        text = " ".join(parts)
        if rng.random() < 0.15:  # phone-typed style
            text = text.replace("tidak", "tdk").replace("sudah", "sdh").replace("yang", "yg")
        while len(text) < MIN_TEXT:
            text += " " + rng.choice(FILLER)
        if len(text) > MAX_TEXT:
            text = text[: MAX_TEXT - 1].rsplit(" ", 1)[0] + "."
        return text

    def submission(self, reference: str) -> dict[str, Any]:
        rng = self.rng
        person = self._person(self.made)
        self.made += 1
        topic = rng.choices(self.topics, self.weights)[0]
        form: dict[str, Any] = {
            **person,
            "subject": rng.choice(TOPICS[topic]["subject"]),
            "text": self.text(topic, person["name"]),
            "client_reference": reference,
        }
        if topic == "informasi" and rng.random() < 0.5:
            form["kind"] = "permintaan_informasi"
        return form

    def bodies(self, prefix: str, count: int) -> list[tuple[str, bytes]]:
        """``count`` (client_reference, JSON body) pairs, references ``<prefix>-<n>``."""
        out = []
        for n in range(count):
            reference = f"{prefix}-{n:06d}"
            out.append((reference, orjson.dumps(self.submission(reference))))
        return out


if __name__ == "__main__":  # a quick look: python bench/complaints.py
    factory = ComplaintFactory()
    lengths = []
    for i in range(2000):
        lengths.append(len(factory.submission(f"x{i}")["text"]))
    print(f"text length min {min(lengths)} max {max(lengths)} mean {sum(lengths) / len(lengths):.0f}")
    for i in range(3):
        print(orjson.dumps(factory.submission(f"sample-{i}"), option=orjson.OPT_INDENT_2).decode())
