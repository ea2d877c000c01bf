# DNS and proxy settings for panelbear.com; external-dns manages the
# records of the ingress hosts.
terraform {
  required_providers {
    cloudflare = { source = "cloudflare/cloudflare", version = "~> 4.0" }
  }
}

# resource "cloudflare_zone" "panelbear" { zone = "panelbear.com" }
