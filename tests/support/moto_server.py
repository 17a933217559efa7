"""moto's server, with what kedactl's tests rely on of AWS that moto 5.2.5 lacks.

- ECR repositories in the Resource Groups Tagging API's GetResources. AWS lists them (`ecr:repository`,
  https://docs.aws.amazon.com/resourcegroupstagging/latest/APIReference/supported-services.html);
  moto lists only the backends that mix in its TaggableResourcesMixin, and its ECR backend does not.
  kedactl finds the repositories an earlier config named through that call.

Usage: python3 tests/support/moto_server.py -H 127.0.0.1 -p PORT   (moto_server's arguments)
"""

from moto import server
from moto.core.resource_tagging import TaggableResourcesMixin, TaggedResource
from moto.ecr import models as ecr


class TaggableECRBackend(ecr.ECRBackend, TaggableResourcesMixin):
    SERVICE_NAMESPACE = "ecr"

    def iter_tagged_resources(self):
        for repo in self.repositories.values():
            yield TaggedResource(
                arn=repo.arn,
                tags=self.tagger.get_tag_dict_for_resource(repo.arn),
                resource_type="ecr:repository",
            )


# moto finds a backend's URL routes by the module its class is defined in.
TaggableECRBackend.__module__ = ecr.ECRBackend.__module__
# Every ECR backend is made from this class on first use (the server has made none yet).
ecr.ecr_backends.backend = TaggableECRBackend

if __name__ == "__main__":
    server.main()
