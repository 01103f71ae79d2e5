resource "kubernetes_namespace_v1" "builds" {
  metadata {
    name = "builds"
  }
}

# Storefront image builds run in the cluster against the node's Docker daemon.
# BRK201: the Docker socket as a hostPath; BRK301: runs as UID 0.
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

        container {
          name  = "builder"
          image = "docker:27-cli"
          args  = ["sh", "-c", "while true; do sleep 3600; done"]

          security_context {
            run_as_user = 0
          }

          volume_mount {
            name       = "docker-socket"
            mount_path = "/var/run/docker.sock"
          }
        }

        volume {
          name = "docker-socket"
          host_path {
            path = "/var/run/docker.sock"
            type = "Socket"
          }
        }
      }
    }
  }
}
