"""A small sixth SOP for tests only (never shipped): what an SOP owner adds for a new case.

Its page, texts and id are made up for the tests; they are not telco guidance.
"""

from __future__ import annotations

INTENT = "uji_esim_qr"
OUTCOME_TEXT = "Minta pelanggan memindai ulang kode QR eSIM dari email aktivasi."

SOP_YAML = f"""\
# Test-only SOP (tests/sop_owner/sixth_sop.py): not a real page.
id: {INTENT}
intent: {INTENT}
title: Uji eSIM, kode QR tidak terbaca
page: uji-esim.txt
page_id: KM0000000001
version: "Uji 1"
updated: 2026-11-01
expires: null
menu:
  button: Uji eSIM QR
  summary: "Uji: kode QR eSIM tidak terbaca"
  example: "qr esim gagal dipindai"
  order: 6
source: Halaman uji eSIM
slots:
  - name: msisdn
    validator: msisdn
    entity: msisdn
    label: MSISDN
    ask: "Nomor MSISDN pelanggan?"
    ref: Uji 1
questions:
  - name: check_uji_esim_qr_baru
    text: "QR eSIM dikirim ulang kurang dari 24 jam lalu?"
    ref: Uji 2
rules:
  - when: {{check_uji_esim_qr_baru: true}}
    outcome: pindai_ulang
  - when: {{check_uji_esim_qr_baru: false}}
    outcome: kirim_ulang
outcomes:
  pindai_ulang:
    title: Pindai ulang QR eSIM
    ref: Uji 3
    steps:
      - text: "{OUTCOME_TEXT}"
        ref: Uji 3
  kirim_ulang:
    title: Kirim ulang QR eSIM
    ref: Uji 4
    steps:
      - text: "Kirim ulang kode QR eSIM ke {{msisdn}}."
        ref: Uji 4
    ticket:
      kip: "UJI eSIM"
"""

NLU_YAML = f"""\
version: "3.1"
nlu:
  - intent: {INTENT}
    examples: |
      - qr esim gagal dipindai
      - kode qr esim tidak terbaca
      - esim qr ga bisa discan
      - pelanggan gagal scan qr esim
      - qr esim error waktu dipindai
      - scan kode qr esim gagal terus
      - qr code esim ga kebaca di hp
      - esim tidak bisa diaktifkan karena qr gagal dipindai
      - tolong bantu qr esim gagal scan
      - qr esim tidak valid saat dipindai
"""
