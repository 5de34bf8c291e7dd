"""--https: a certificate for this machine's addresses and names,
made once and kept in the data folder, or --cert/--key."""
from __future__ import annotations

import datetime
import ipaddress
import logging
import os
import socket

log = logging.getLogger(__name__)
FOLDER = "tls"
# iOS and macOS refuse a certificate that lasts longer than 825 days even once the user trusts it.
VALID_DAYS = 825


def machine_names(host: str) -> tuple[list[str], list[str]]:
    """(DNS names, IP addresses) a device on the LAN may use to reach this server."""
    import psutil

    names = {"localhost", socket.gethostname()}
    names.add(socket.gethostname().split(".")[0] + ".local")  # mDNS name (Bonjour, Avahi)
    ips = {"127.0.0.1", "::1"}
    if host not in ("0.0.0.0", "::", ""):
        try:
            ips.add(str(ipaddress.ip_address(host)))
        except ValueError:
            names.add(host)
    for addrs in psutil.net_if_addrs().values():
        for a in addrs:
            if a.family in (socket.AF_INET, socket.AF_INET6):
                try:
                    ips.add(str(ipaddress.ip_address(a.address.split("%")[0])))
                except ValueError:
                    pass
    return sorted(n for n in names if n), sorted(ips)


def fingerprint(cert_pem: bytes) -> str:
    """The SHA-256 fingerprint browsers show: 32 hex pairs joined by colons."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes

    digest = x509.load_pem_x509_certificate(cert_pem).fingerprint(hashes.SHA256())
    return ":".join(f"{b:02X}" for b in digest)


def _covers(cert_pem: bytes, ips: list[str]) -> bool:
    """True when the certificate is still valid for a month and names every address given."""
    from cryptography import x509

    cert = x509.load_pem_x509_certificate(cert_pem)
    if cert.not_valid_after_utc < datetime.datetime.now(datetime.timezone.utc) + datetime.timedelta(days=30):
        return False
    try:
        san = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    except x509.ExtensionNotFound:
        return False
    have = {str(a) for a in san.get_values_for_type(x509.IPAddress)}
    return set(ips) <= have


def make_certificate(names: list[str], ips: list[str]) -> tuple[bytes, bytes]:
    """(certificate PEM, key PEM): self-signed, P-256, for these names and addresses."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME,
                                            f"LAN chat on {names[0] if names else 'this machine'}"[:64])])
    now = datetime.datetime.now(datetime.timezone.utc)
    alt = [x509.DNSName(n) for n in names] + [x509.IPAddress(ipaddress.ip_address(i)) for i in ips]
    cert = (x509.CertificateBuilder().subject_name(subject).issuer_name(subject).public_key(key.public_key())
            .serial_number(x509.random_serial_number()).not_valid_before(now - datetime.timedelta(minutes=5))
            .not_valid_after(now + datetime.timedelta(days=VALID_DAYS))
            .add_extension(x509.SubjectAlternativeName(alt), critical=False)
            # Its own issuer, as `openssl req -x509` makes one: a phone can then install it as a trusted root
            # (iOS and Android trust only CA certificates), and TLS clients can pin it as their one CA.
            .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
            .add_extension(x509.KeyUsage(digital_signature=True, key_cert_sign=True, content_commitment=False,
                                         key_encipherment=False, data_encipherment=False, key_agreement=False,
                                         crl_sign=False, encipher_only=False, decipher_only=False), critical=True)
            .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
            .sign(key, hashes.SHA256()))
    key_pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                serialization.NoEncryption())
    return cert.public_bytes(serialization.Encoding.PEM), key_pem


def certificate(cfg, folder: str) -> tuple[str, str, str]:
    """(certificate file, key file, SHA-256 fingerprint) to serve with: --cert/--key, or the one kept in folder/tls."""
    if cfg.cert_file:
        try:
            with open(cfg.cert_file, "rb") as f:
                return cfg.cert_file, cfg.key_file, fingerprint(f.read())
        except (OSError, ValueError) as e:
            raise SystemExit(f"The certificate {cfg.cert_file} cannot be read ({e}).")
    tls = os.path.join(folder, FOLDER)
    cert_path, key_path = os.path.join(tls, "cert.pem"), os.path.join(tls, "key.pem")
    names, ips = machine_names(cfg.host)
    try:
        with open(cert_path, "rb") as f:
            kept = f.read()
        if os.path.exists(key_path) and _covers(kept, ips):
            return cert_path, key_path, fingerprint(kept)
        log.warning("the kept certificate does not name every address of this machine now (or expires soon): "
                    "making a new one; devices will be asked once more to accept it")
    except (OSError, ValueError):
        pass
    cert_pem, key_pem = make_certificate(names, ips)
    os.makedirs(tls, mode=0o700, exist_ok=True)
    fd = os.open(key_path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)  # the key is readable by its owner only
    with os.fdopen(fd, "wb") as f:
        f.write(key_pem)
    with open(cert_path, "wb") as f:
        f.write(cert_pem)
    return cert_path, key_path, fingerprint(cert_pem)
