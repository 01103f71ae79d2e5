resource "kubernetes_namespace_v1" "builds" {
  metadata {
    name = "builds"
  }
}

# Storefront image builds run in the cluster with rootless BuildKit: no Docker socket,
# a non-root user, no privilege escalation, a read-only root filesystem.
resource "kubernetes_deployment_v1" "image_builder" {
  metadata {
    name      = "image-builder"
    namespace = kubernetes_namespace_v1.builds.metadata[0].name
    labels = {
      app = "image-builder"
    }
  }

  spec {
    replicas = 2

    selector {
      match_labels = {
        app = "image-builder"
      }
    }

    template {
      metadata {
        labels = {
          app = "image-builder"
        }
      }

      spec {
        service_account_name = "image-builder"

        security_context {
          run_as_non_root = true
          run_as_user     = 1000
          run_as_group    = 1000
          fs_group        = 1000
          seccomp_profile {
            type = "RuntimeDefault"
          }
        }

        container {
          name  = "builder"
          image = "moby/buildkit:v0.16.0-rootless"
          args  = ["--oci-worker-no-process-sandbox"]

          security_context {
            allow_privilege_escalation = false
            read_only_root_filesystem  = true
            capabilities {
              drop = ["ALL"]
            }
          }

          volume_mount {
            name       = "buildkit-state"
            mount_path = "/home/user/.local/share/buildkit"
          }
        }

        volume {
          name = "buildkit-state"
          empty_dir {}
        }
      }
    }
  }
}
